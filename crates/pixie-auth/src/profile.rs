//! The person's profile: userinfo (OIDC Core §5.3) or a plain OAuth 2.0 provider's user API
//! (RFC 6750 §2.1), each checked to be about the signed-in account, and the picture fetched
//! by the core ([`crate::picture`]).

use openidconnect::core::CoreGenderClaim;
use openidconnect::{AccessToken, EmptyAdditionalClaims, UserInfoClaims, UserInfoError};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::flow::FlowTrace;
use crate::flow::steps::{picture_step, user_api_step, userinfo_step};
use crate::picture::fetch_picture;
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::Tokens;

/// The claims of a userinfo answer.
pub type UserInfo = UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>;

/// What the window shows, and what the app may cache to draw at once next time. No token, ever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The account at its provider (`sub`, or the user API's id).
    pub subject: String,
    /// A name to greet the person by (never empty).
    pub name: String,
    /// The e-mail address, when the provider shares it.
    pub email: Option<String>,
    /// `data:` URL of the picture, fetched by the core; `None` shows initials.
    pub picture_data_url: Option<String>,
    /// The provider's issuer.
    pub issuer: String,
    /// The provider's id in Pixie's settings.
    pub provider_id: String,
}

impl Provider {
    /// Userinfo (with the `sub` check) and the picture, as the window shows them. A picture
    /// that cannot be used is reported beside the profile, not as a failure.
    pub async fn load_profile(&self, tokens: &Tokens) -> Result<(Profile, Option<Error>), Error> {
        self.load_profile_traced(tokens, None).await
    }

    pub(crate) async fn load_profile_traced(
        &self,
        tokens: &Tokens,
        trace: Option<&FlowTrace>,
    ) -> Result<(Profile, Option<Error>), Error> {
        let http = match trace {
            Some(t) => self.http.with_trace(t),
            None => self.http.clone(),
        };
        let (mut profile, picture) = match self.config.protocol {
            Protocol::OpenidConnect => self.userinfo_profile(&http, tokens, trace).await?,
            Protocol::Oauth2 => {
                let result = self.user_api_profile(&http, tokens).await;
                if let Some(t) = trace {
                    t.push(user_api_step(&self.userinfo_path(), &result, t));
                }
                result?
            }
        };
        let mut picture_error = None;
        if let Some(url) = picture {
            let result = fetch_picture(&http, &url, self.issuer()).await;
            if let Some(t) = trace {
                t.push(picture_step(&url, &result, t));
            }
            match result {
                Ok(data) => profile.picture_data_url = Some(data),
                Err(e) => {
                    tracing::warn!(error = %e, "profile picture not used");
                    picture_error = Some(e);
                }
            }
        }
        Ok((profile, picture_error))
    }

    /// The path of the userinfo endpoint or user API, for the flow record.
    fn userinfo_path(&self) -> String {
        self.metadata
            .userinfo_endpoint()
            .map(|u| u.url().path().to_owned())
            .unwrap_or_default()
    }

    /// OIDC Core §5.3: the profile from userinfo, and its picture's URL.
    async fn userinfo_profile(
        &self,
        http: &crate::HttpClient,
        tokens: &Tokens,
        trace: Option<&FlowTrace>,
    ) -> Result<(Profile, Option<String>), Error> {
        let claims = self.user_info_with(http, tokens).await;
        if let Some(t) = trace {
            let dpop = tokens.dpop_key.is_some();
            t.push(userinfo_step(&self.userinfo_path(), &claims, t, dpop));
        }
        let claims = claims?;
        let picture = claims
            .picture()
            .and_then(|p| p.get(None))
            .map(|u| u.as_str().to_owned());
        Ok((self.profile_from(tokens, &claims), picture))
    }

    /// OIDC Core §5.3: userinfo with the access token; §5.3.4: its `sub` must equal the
    /// ID token's.
    pub async fn user_info(&self, tokens: &Tokens) -> Result<UserInfo, Error> {
        self.user_info_with(&self.http, tokens).await
    }

    async fn user_info_with(
        &self,
        http: &crate::HttpClient,
        tokens: &Tokens,
    ) -> Result<UserInfo, Error> {
        let request = self
            .client
            .user_info(tokens.access_token.clone(), Some(tokens.subject.clone()))
            .map_err(|e| Error::Config(e.to_string()))?;
        let map = |e: UserInfoError<crate::HttpError>| match e {
            UserInfoError::ClaimsVerification(
                openidconnect::ClaimsVerificationError::InvalidSubject(_),
            ) => Error::SubjectMismatch,
            UserInfoError::Request(source) => Error::http("userinfo", source),
            other => Error::UserInfo(other.to_string()),
        };
        // RFC 9449 §7.1: a DPoP-bound access token goes with a proof (and `ath`).
        match &tokens.dpop_key {
            Some(key) => {
                let client = self.dpop_client(http, key, "userinfo");
                let result = request.request_async(&client).await.map_err(map);
                match client.outcome().failure {
                    Some(e) if result.is_err() => Err(e.into()),
                    _ => result,
                }
            }
            None => request.request_async(http).await.map_err(map),
        }
    }

    /// RFC 6750 §2.1: GET the user API of a plain OAuth 2.0 provider with the access token.
    pub(crate) async fn user_api(
        &self,
        http: &crate::HttpClient,
        access_token: &AccessToken,
    ) -> Result<openidconnect::HttpResponse, Error> {
        let url = self
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| Error::Config("no user API configured".into()))?
            .url();
        crate::http::request::get_json(http, url, Some(access_token.secret()))
            .await
            .map_err(|e| Error::http("userinfo", e))
    }

    /// The profile in a user API answer. A refreshed or resumed token must still be about
    /// the same account.
    pub(crate) fn user_api_answer(
        &self,
        response: &openidconnect::HttpResponse,
        tokens: &Tokens,
    ) -> Result<(Profile, Option<String>), Error> {
        if !response.status().is_success() {
            return Err(Error::UserInfo(format!(
                "the user API answered HTTP {}",
                response.status()
            )));
        }
        let (profile, picture) =
            profile_from_user_api(response.body(), self.issuer(), &self.config.id)?;
        if !tokens.subject.as_str().is_empty() && tokens.subject.as_str() != profile.subject {
            return Err(Error::SubjectMismatch);
        }
        Ok((profile, picture))
    }

    async fn user_api_profile(
        &self,
        http: &crate::HttpClient,
        tokens: &Tokens,
    ) -> Result<(Profile, Option<String>), Error> {
        let response = self.user_api(http, &tokens.access_token).await?;
        self.user_api_answer(&response, tokens)
    }

    fn profile_from(&self, tokens: &Tokens, claims: &UserInfo) -> Profile {
        let email = claims.email().map(|e| e.to_string());
        let name = claims
            .name()
            .and_then(|c| c.get(None))
            .map(|n| n.to_string())
            .or_else(|| {
                let given = claims
                    .given_name()
                    .and_then(|c| c.get(None))
                    .map(|n| n.to_string());
                let family = claims
                    .family_name()
                    .and_then(|c| c.get(None))
                    .map(|n| n.to_string());
                match (given, family) {
                    (Some(g), Some(f)) => Some(format!("{g} {f}")),
                    (g, f) => g.or(f),
                }
            })
            .or_else(|| claims.preferred_username().map(|u| u.to_string()))
            .or_else(|| email.clone())
            .unwrap_or_else(|| tokens.subject.to_string());
        Profile {
            subject: tokens.subject.to_string(),
            name,
            email,
            picture_data_url: None,
            issuer: self.issuer().to_owned(),
            provider_id: self.config.id.clone(),
        }
    }
}

/// The account and profile a plain OAuth 2.0 user API returns (GitHub's `GET /user`:
/// `id`, `login`, `name`, `email`, `avatar_url`; the OpenID names `sub`, `name`,
/// `preferred_username`, `picture` are read too). Returns the profile and its picture URL.
pub fn profile_from_user_api(
    body: &[u8],
    issuer: &str,
    provider_id: &str,
) -> Result<(Profile, Option<String>), Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::UserInfo(format!("the user API did not answer JSON: {e}")))?;
    let text = |k: &str| {
        value
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    let subject = match value.get("sub").or_else(|| value.get("id")) {
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err(Error::UserInfo("the user API named no account id".into())),
    };
    let email = text("email");
    let name = text("name")
        .or_else(|| text("login"))
        .or_else(|| text("preferred_username"))
        .or_else(|| email.clone())
        .unwrap_or_else(|| subject.clone());
    let picture = text("picture").or_else(|| text("avatar_url"));
    Ok((
        Profile {
            subject,
            name,
            email,
            picture_data_url: None,
            issuer: issuer.to_owned(),
            provider_id: provider_id.to_owned(),
        },
        picture,
    ))
}
