// Keep a console window from opening alongside Pixie on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    pixie_app::run();
}
