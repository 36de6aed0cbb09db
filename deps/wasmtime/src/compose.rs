//! `wasmplug_compose`: plug components into a main component's imports ahead
//! of time and write one component, with `wasm-compose`'s composition graph;
//! `wasmplug_component_fit`: say which function of an import a plug does not
//! fit, shared with load-time linking (src/link.rs).
//!
//! wasm-compose checks a connection as a whole ("source instance export `x`
//! is not compatible with target instance import `x`"); the user needs the
//! function and both types, so a refused connection is explained by
//! comparing the two interfaces as WIT (wit-component decodes both).

use std::collections::HashSet;
use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use anyhow::{bail, Context};
use wasm_compose::graph::{CompositionGraph, EncodeOptions, ImportIndex};
use wasmparser::{ComponentExternalKind, Validator};
use wit_component::DecodedWasm;
use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, WorldItem};

use crate::wit::into_c;

/// A component's world as WIT, to compare what one imports with what
/// another exports.
struct World {
    resolve: Resolve,
    world: wit_parser::WorldId,
}

impl World {
    fn decode(bytes: &[u8], what: &str) -> anyhow::Result<World> {
        match wit_component::decode(bytes)
            .with_context(|| format!("{what}: cannot read its WIT"))?
        {
            DecodedWasm::Component(resolve, world) => Ok(World { resolve, world }),
            DecodedWasm::WitPackage(..) => bail!("{what}: is a WIT package, not a component"),
        }
    }

    /// The interface imported (or exported) under `name`
    /// ("wasi:keyvalue/store@0.2.0-draft").
    fn interface(&self, name: &str, import: bool) -> Option<InterfaceId> {
        let w = &self.resolve.worlds[self.world];
        let items = if import { &w.imports } else { &w.exports };
        items.iter().find_map(|(key, item)| match item {
            WorldItem::Interface { id, .. } if self.resolve.name_world_key(key) == name => {
                Some(*id)
            }
            _ => None,
        })
    }

    /// A function's type with every named type spelled out, so two
    /// components' types compare as text.
    fn signature(&self, f: &Function) -> String {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, self.ty(&p.ty)))
            .collect();
        match &f.result {
            Some(r) => format!("func({}) -> {}", params.join(", "), self.ty(r)),
            None => format!("func({})", params.join(", ")),
        }
    }

    /// What in `t` a load-time link cannot carry: a resource of an interface
    /// other than `own`, a future or a stream.
    fn uncarried(&self, t: &Type, own: InterfaceId) -> Option<String> {
        let Type::Id(id) = t else { return None };
        let def = &self.resolve.types[*id];
        let sub = |t: &Type| self.uncarried(t, own);
        let opt = |t: &Option<Type>| t.as_ref().and_then(|t| self.uncarried(t, own));
        match &def.kind {
            TypeDefKind::Handle(wit_parser::Handle::Own(r) | wit_parser::Handle::Borrow(r)) => {
                // `use other.{res}` makes an alias in this interface: the
                // resource's owner is where the alias chain ends.
                let mut rd = &self.resolve.types[*r];
                while let TypeDefKind::Type(Type::Id(next)) = rd.kind {
                    rd = &self.resolve.types[next];
                }
                match rd.owner {
                    wit_parser::TypeOwner::Interface(i) if i == own => None,
                    _ => Some(format!(
                        "resource '{}' of another interface",
                        rd.name.clone().unwrap_or_default()
                    )),
                }
            }
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => Some("a future or stream".into()),
            TypeDefKind::Record(r) => r.fields.iter().find_map(|f| sub(&f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().find_map(sub),
            TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| opt(&c.ty)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => sub(t),
            TypeDefKind::FixedLengthList(t, _) => sub(t),
            TypeDefKind::Map(k, v) => sub(k).or_else(|| sub(v)),
            TypeDefKind::Result(r) => opt(&r.ok).or_else(|| opt(&r.err)),
            _ => None,
        }
    }

    fn opt(&self, t: &Option<Type>) -> String {
        t.as_ref().map_or("_".to_string(), |t| self.ty(t))
    }

    fn ty(&self, t: &Type) -> String {
        let id = match t {
            Type::Id(id) => *id,
            Type::Bool => return "bool".into(),
            Type::U8 => return "u8".into(),
            Type::U16 => return "u16".into(),
            Type::U32 => return "u32".into(),
            Type::U64 => return "u64".into(),
            Type::S8 => return "s8".into(),
            Type::S16 => return "s16".into(),
            Type::S32 => return "s32".into(),
            Type::S64 => return "s64".into(),
            Type::F32 => return "f32".into(),
            Type::F64 => return "f64".into(),
            Type::Char => return "char".into(),
            Type::String => return "string".into(),
            Type::ErrorContext => return "error-context".into(),
        };
        let def = &self.resolve.types[id];
        let name = def.name.clone().unwrap_or_default();
        let join = |v: Vec<String>| v.join(", ");
        match &def.kind {
            TypeDefKind::Record(r) => format!(
                "record {name} {{ {} }}",
                join(
                    r.fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, self.ty(&f.ty)))
                        .collect()
                )
            ),
            TypeDefKind::Resource => format!("resource {name}"),
            TypeDefKind::Handle(wit_parser::Handle::Own(r)) => self.ty(&Type::Id(*r)),
            TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => {
                format!("borrow<{}>", self.ty(&Type::Id(*r)))
            }
            TypeDefKind::Flags(f) => format!(
                "flags {name} {{ {} }}",
                join(f.flags.iter().map(|f| f.name.clone()).collect())
            ),
            TypeDefKind::Tuple(t) => {
                format!(
                    "tuple<{}>",
                    join(t.types.iter().map(|t| self.ty(t)).collect())
                )
            }
            TypeDefKind::Variant(v) => format!(
                "variant {name} {{ {} }}",
                join(
                    v.cases
                        .iter()
                        .map(|c| match &c.ty {
                            Some(t) => format!("{}({})", c.name, self.ty(t)),
                            None => c.name.clone(),
                        })
                        .collect()
                )
            ),
            TypeDefKind::Enum(e) => format!(
                "enum {name} {{ {} }}",
                join(e.cases.iter().map(|c| c.name.clone()).collect())
            ),
            TypeDefKind::Option(t) => format!("option<{}>", self.ty(t)),
            TypeDefKind::Result(r) => format!("result<{}, {}>", self.opt(&r.ok), self.opt(&r.err)),
            TypeDefKind::List(t) => format!("list<{}>", self.ty(t)),
            TypeDefKind::Map(k, v) => format!("map<{}, {}>", self.ty(k), self.ty(v)),
            TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", self.ty(t)),
            TypeDefKind::Future(t) => format!("future<{}>", self.opt(t)),
            TypeDefKind::Stream(t) => format!("stream<{}>", self.opt(t)),
            TypeDefKind::Type(t) => self.ty(t),
            TypeDefKind::Unknown => format!("unknown {name}"),
        }
    }
}

/// Why the plug's export `iface` cannot serve the main's import of it, naming
/// the first function (or resource) that differs with both types; None when
/// every function fits.
pub(crate) fn misfit(
    main: &[u8],
    plug: &[u8],
    iface: &str,
    link: bool,
) -> anyhow::Result<Option<String>> {
    let m = World::decode(main, "the main component")?;
    let p = World::decode(plug, "the plug")?;
    let Some(mi) = m.interface(iface, true) else {
        return Ok(Some(format!(
            "the main component does not import '{iface}'"
        )));
    };
    let Some(pi) = p.interface(iface, false) else {
        return Ok(Some(format!("the plug does not export '{iface}'")));
    };
    let mid = mi;
    let (mi, pi) = (&m.resolve.interfaces[mi], &p.resolve.interfaces[pi]);
    for (name, ty) in &mi.types {
        if matches!(m.resolve.types[*ty].kind, TypeDefKind::Resource) {
            let found = pi.types.get(name).map(|t| &p.resolve.types[*t].kind);
            if !matches!(found, Some(TypeDefKind::Resource)) {
                return Ok(Some(format!(
                    "import '{iface}': resource '{name}' is missing from the plug's export"
                )));
            }
        }
    }
    for (name, f) in &mi.functions {
        let want = m.signature(f);
        let types = f.params.iter().map(|p| &p.ty).chain(f.result.as_ref());
        if let Some(what) = types.filter(|_| link).find_map(|t| m.uncarried(t, mid)) {
            return Ok(Some(format!(
                "import '{iface}': function '{name}' passes {what}, which a load-time link \
                 cannot carry (compose the components instead: wasmplug compose)"
            )));
        }
        match pi.functions.get(name) {
            None => {
                return Ok(Some(format!(
                    "import '{iface}': function '{name}' is missing from the plug's export \
                     (expected {want})"
                )))
            }
            Some(g) => {
                let found = p.signature(g);
                if found != want {
                    return Ok(Some(format!(
                        "import '{iface}': function '{name}' has the wrong type: expected \
                         {want}, found {found}"
                    )));
                }
            }
        }
    }
    Ok(None)
}

fn compose(main: &[u8], plugs: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    let mut validator = Validator::new();
    let mut graph = CompositionGraph::new();
    let main_c = wasm_compose::graph::Component::from_bytes(&mut validator, "main", main)
        .context("the main component")?;
    let main_id = graph.add_component(main_c)?;
    let main_inst = graph.instantiate(main_id)?;
    let mut insts = Vec::new();
    for (i, (name, bytes)) in plugs.iter().enumerate() {
        let c =
            wasm_compose::graph::Component::from_bytes(&mut validator, format!("plug{i}"), *bytes)
                .with_context(|| format!("plug '{name}'"))?;
        let id = graph.add_component(c)?;
        insts.push((id, graph.instantiate(id)?));
    }
    // Every instance import of the main, then of the plugs (a plug may serve
    // another), goes to the first plug exporting an instance of that name.
    let mut used = vec![false; plugs.len()];
    let mut targets = vec![(None, main_id, main_inst)];
    targets.extend(
        insts
            .iter()
            .enumerate()
            .map(|(i, (c, n))| (Some(i), *c, *n)),
    );
    for (tplug, tcomp, tinst) in targets {
        let imports: Vec<(ImportIndex, String)> = graph
            .get_component(tcomp)
            .unwrap()
            .imports()
            .filter(|(_, _, ty)| matches!(ty, wasmparser::ComponentTypeRef::Instance(_)))
            .map(|(i, n, _)| (i, n.to_string()))
            .collect();
        for (import, name) in imports {
            for (j, (scomp, sinst)) in insts.iter().enumerate() {
                if Some(j) == tplug {
                    continue;
                }
                let src = graph.get_component(*scomp).unwrap();
                let Some((export, kind, _)) = src.export_by_name(&name) else {
                    continue;
                };
                if kind != ComponentExternalKind::Instance {
                    continue;
                }
                if let Err(e) = graph.connect(*sinst, Some(export), tinst, import) {
                    let target = match tplug {
                        None => main,
                        Some(t) => plugs[t].1,
                    };
                    let why = misfit(target, plugs[j].1, &name, false).ok().flatten();
                    bail!(
                        "plug '{}' does not fit {}: {}",
                        plugs[j].0,
                        tplug.map_or("the main component".to_string(), |t| format!(
                            "plug '{}'",
                            plugs[t].0
                        )),
                        why.unwrap_or_else(|| format!("{e:#}"))
                    );
                }
                used[j] = true;
                break;
            }
        }
    }
    if let Some(j) = used.iter().position(|u| !u) {
        let exports: Vec<String> = graph
            .get_component(insts[j].0)
            .unwrap()
            .exports()
            .map(|(_, n, _, _)| n.to_string())
            .collect();
        let wanted: HashSet<String> = graph
            .get_component(main_id)
            .unwrap()
            .imports()
            .map(|(_, n, _)| n.to_string())
            .collect();
        let mut wanted: Vec<String> = wanted.into_iter().collect();
        wanted.sort();
        bail!(
            "plug '{}' satisfies none of the imports: it exports [{}], the main component \
             imports [{}]",
            plugs[j].0,
            exports.join(", "),
            wanted.join(", ")
        );
    }
    graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(main_inst),
            validate: true,
        })
        .context("cannot encode the composition")
}

/// See `include/wasmplug_ext.h`.
///
/// # Safety
/// Every pointer as documented there.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_compose(
    main: *const u8,
    main_len: usize,
    plug_names: *const *const c_char,
    plugs: *const *const u8,
    plug_lens: *const usize,
    nplugs: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
    error: *mut *mut c_char,
) -> c_int {
    if out.is_null() || out_len.is_null() || error.is_null() {
        return -1;
    }
    *out = ptr::null_mut();
    *out_len = 0;
    *error = ptr::null_mut();
    let result = catch_unwind(AssertUnwindSafe(|| -> anyhow::Result<Vec<u8>> {
        if main.is_null() || (nplugs > 0 && (plugs.is_null() || plug_lens.is_null())) {
            bail!("wasmplug_compose: the main component and the plugs are required");
        }
        let mut list = Vec::with_capacity(nplugs);
        for i in 0..nplugs {
            let p = *plugs.add(i);
            if p.is_null() {
                bail!("wasmplug_compose: plug {i} is NULL");
            }
            let name = if plug_names.is_null() || (*plug_names.add(i)).is_null() {
                format!("#{}", i + 1)
            } else {
                std::ffi::CStr::from_ptr(*plug_names.add(i))
                    .to_string_lossy()
                    .into_owned()
            };
            list.push((name, std::slice::from_raw_parts(p, *plug_lens.add(i))));
        }
        if list.is_empty() {
            bail!("no plug given: name at least one component to plug into the main one");
        }
        let refs: Vec<(&str, &[u8])> = list.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        compose(std::slice::from_raw_parts(main, main_len), &refs)
    }));
    let msg = match result {
        Ok(Ok(bytes)) => {
            let p = crate::wit::malloc_bytes(&bytes);
            if p.is_null() {
                return -1;
            }
            *out = p;
            *out_len = bytes.len();
            return 0;
        }
        Ok(Err(e)) => format!("{e:#}"),
        Err(_) => "wasmplug_compose: internal error (panic while composing)".to_string(),
    };
    *error = into_c(msg);
    -1
}

/// See `include/wasmplug_ext.h`.
///
/// # Safety
/// Every pointer as documented there.
#[no_mangle]
pub unsafe extern "C" fn wasmplug_component_fit(
    main: *const u8,
    main_len: usize,
    plug: *const u8,
    plug_len: usize,
    iface: *const c_char,
    why: *mut *mut c_char,
) -> c_int {
    if why.is_null() {
        return -1;
    }
    *why = ptr::null_mut();
    let r = catch_unwind(AssertUnwindSafe(|| {
        if main.is_null() || plug.is_null() || iface.is_null() {
            bail!("wasmplug_component_fit: NULL argument");
        }
        let iface = std::ffi::CStr::from_ptr(iface).to_string_lossy();
        misfit(
            std::slice::from_raw_parts(main, main_len),
            std::slice::from_raw_parts(plug, plug_len),
            &iface,
            true,
        )
    }));
    match r {
        Ok(Ok(None)) => 0,
        Ok(Ok(Some(why_text))) => {
            *why = into_c(why_text);
            1
        }
        Ok(Err(e)) => {
            *why = into_c(format!("{e:#}"));
            -1
        }
        Err(_) => {
            *why = into_c("wasmplug_component_fit: internal error (panic)".to_string());
            -1
        }
    }
}
