#!/usr/bin/env python3
"""Imports go one way: fails when files of a crate's src/ import each other in a circle.

Usage: scripts/import-cycles.py DIR [-v]   (DIR is a crate's src/; -v prints every edge)

An edge is a path to another file of the crate: `crate::a::b::Item` or `super::Item` leads to
the file that defines module `a::b`; `crate::Item` goes through the crate root's re-exports.
Comments and `#[cfg(test)]` modules are left out; a parent declaring its child module is no
edge. Good enough for this code base's style (no glob imports, no macros naming paths)."""
import os,re,sys
root=sys.argv[1]
files={}
for dp,dn,fn in os.walk(root):
    for f in fn:
        if f.endswith('.rs'):
            p=os.path.join(dp,f); files[os.path.relpath(p,root)]=open(p).read()
def modpath(rel):
    parts=rel[:-3].split('/')
    if parts[-1]=='mod': parts=parts[:-1]
    if parts==['lib']: return []
    return parts
bymod={tuple(modpath(r)):r for r in files}
def strip(s):
    s=re.split(r'#\[cfg\(test\)\]\s*mod',s)[0]
    s=re.sub(r'//[^\n]*','',s)
    return s
lib=strip(files['lib.rs'])
reexp={}
for m in re.finditer(r'pub(?:\(crate\))? use ([a-z_:]+)::\{([^}]*)\}',lib):
    for name in m.group(2).split(','):
        reexp[name.strip()]=m.group(1).split('::')
for m in re.finditer(r'pub(?:\(crate\))? use ([a-z_:]+)::([A-Za-z_]+);',lib):
    reexp[m.group(2)]=m.group(1).split('::')
def resolve(segs):
    # deepest module prefix that is a file
    if segs and segs[0] in reexp and segs[0][0].isupper(): segs=reexp[segs[0]]+segs
    best=None
    for i in range(len(segs),0,-1):
        if tuple(segs[:i]) in bymod: return bymod[tuple(segs[:i])]
    return None
edges={}
for rel,s in files.items():
    if rel=='lib.rs': continue
    s=strip(s); me=modpath(rel); out=set()
    # expand use groups: use crate::a::{b, c::D}
    for m in re.finditer(r'\b(crate|super)((?:::[A-Za-z_]+)*)(::\{([^;]*?)\})?',s):
        base=[] if m.group(1)=='crate' else (me[:-1] if not rel.endswith('mod.rs') else me[:-1])
        if m.group(1)=='super':
            base=me[:-1]
        segs=base+[x for x in m.group(2).split('::') if x]
        targets=[segs]
        if m.group(4):
            targets=[]
            for item in re.split(r',(?![^{]*\})',m.group(4)):
                item=item.strip()
                if not item or item=='self': targets.append(segs); continue
                targets.append(segs+[x for x in re.split(r'::',item.split('{')[0].split(' as ')[0]) if x])
        for t in targets:
            r=resolve(t)
            if r and r!=rel: out.add(r)
    edges[rel]=out
# SCCs
idx={};low={};st=[];on=set();n=[0];res=[]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=n[0];n[0]+=1;st.append(v);on.add(v)
    for w in edges.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        c=[]
        while True:
            w=st.pop();on.discard(w);c.append(w)
            if w==v:break
        if len(c)>1:res.append(sorted(c))
for v in edges:
    if v not in idx: sc(v)
if '-v' in sys.argv:
    for k in sorted(edges): print(k,'->',sorted(edges[k]))
if res:
    print(f"{root}: files that import each other in a circle:")
    for c in res: print("   ", ", ".join(c))
    sys.exit(1)
print(f"{root}: imports go one way ({len(edges)} files)")
