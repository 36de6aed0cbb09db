//! wave-diff: wasmplug's WAVE reader and writer, checked differentially
//! against `wasm-wave` (the crate Wasmtime itself uses to print and read
//! values), on tens of thousands of seeded random values of random WIT types.
//!
//!   wasmplug-wave-diff DRIVER [--count N] [--seed S]   run the comparison
//!   wasmplug-wave-diff gen-table                        print wave_unicode.h
//!
//! DRIVER is tests/wave-diff/driver.c built against libwasmplug: it reads a
//! WIT type and WAVE text, and answers with what wasmplug printed back (or
//! its error). For every value V of type T this program checks that
//!
//!   1. wasmplug reads wasm-wave's text of V and prints exactly what wasm-wave
//!      prints, but for the differences listed in docs/wave.md, which `expected`
//!      below applies (and which is itself checked against wasm-wave's writer);
//!   2. wasm-wave reads what wasmplug printed back to V;
//!   3. both read another spelling of V (whitespace, comments, escapes,
//!      flattened options, omitted fields, other float forms, multiline
//!      strings...) to V, and wasmplug prints it as in 1.;
//!
//! and then that both accept or both refuse a list of edge-case inputs
//! (`probes`), except the documented differences, which must show up exactly
//! as documented. Every scalar value is also sent once, in strings of 256
//! consecutive code points, which checks wasmplug's escape table whole.
//!
//! The first mismatches are printed in full; any mismatch fails the run.

use std::borrow::Cow;
use std::fmt::{Display, LowerExp};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};

use wasm_wave::lex::Keyword;
use wasm_wave::value::{Type, Value};
use wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue};

/// How many random values to check unless --count says otherwise.
const DEFAULT_COUNT: usize = 40_000;
/// Mismatches printed in full before the rest are only counted.
const SHOW_MAX: usize = 20;
/// Longest text quoted in a mismatch report.
const QUOTE_MAX: usize = 400;

// ---------------------------------------------------------------------------
// A small deterministic random generator (splitmix64): the same seed gives
// the same values on every machine, with no dependency.
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------
// Random WIT types
// ---------------------------------------------------------------------------

const KEYWORDS: [&str; 8] = ["true", "false", "some", "none", "ok", "err", "inf", "nan"];

/// A WIT label: kebab-case words, each all lower or all upper case, and now
/// and then a WAVE keyword (which must be written with a `%` prefix).
fn gen_name(rng: &mut Rng) -> String {
    if rng.chance(15) {
        return rng.pick(&KEYWORDS).to_string();
    }
    let words = rng.range(1, 3);
    let mut name = String::new();
    for i in 0..words {
        if i > 0 {
            name.push('-');
        }
        let upper = rng.chance(15);
        let first = (if upper { b'A' } else { b'a' }) + rng.below(26) as u8;
        name.push(first as char);
        for _ in 0..rng.range(0, 4) {
            let c = match rng.below(36) {
                d @ 0..=9 => b'0' + d as u8,
                l => (if upper { b'A' } else { b'a' }) + (l - 10) as u8,
            };
            name.push(c as char);
        }
    }
    name
}

fn gen_names(rng: &mut Rng, n: u32) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    while names.len() < n as usize {
        let name = gen_name(rng);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

const SCALARS: [Type; 13] = [
    Type::BOOL,
    Type::S8,
    Type::U8,
    Type::S16,
    Type::U16,
    Type::S32,
    Type::U32,
    Type::S64,
    Type::U64,
    Type::F32,
    Type::F64,
    Type::CHAR,
    Type::STRING,
];

fn gen_type(rng: &mut Rng, depth: u32) -> Type {
    let compound = depth > 0 && rng.chance(45);
    if !compound {
        return match rng.below(16) {
            0 => {
                let n = rng.range(1, 5);
                Type::enum_ty(gen_names(rng, n)).unwrap()
            }
            1 => {
                let n = rng.range(1, 6);
                Type::flags(gen_names(rng, n)).unwrap()
            }
            _ => rng.pick(&SCALARS).clone(),
        };
    }
    let d = depth - 1;
    match rng.below(6) {
        0 => Type::list(gen_type(rng, d)),
        1 => {
            let n = rng.range(1, 4);
            let names = gen_names(rng, n);
            Type::record(names.into_iter().map(|n| (n, gen_type(rng, d)))).unwrap()
        }
        2 => {
            let n = rng.range(1, 4);
            Type::tuple((0..n).map(|_| gen_type(rng, d)).collect::<Vec<_>>()).unwrap()
        }
        3 => {
            let n = rng.range(1, 4);
            let names = gen_names(rng, n);
            let cases: Vec<_> = names
                .into_iter()
                .map(|n| (n, rng.chance(60).then(|| gen_type(rng, d))))
                .collect();
            Type::variant(cases).unwrap()
        }
        4 => Type::option(gen_type(rng, d)),
        _ => {
            let ok = rng.chance(75).then(|| gen_type(rng, d));
            let err = rng.chance(75).then(|| gen_type(rng, d));
            Type::result(ok, err)
        }
    }
}

/// The type as the driver reads it: WIT-like, without spaces, anonymous
/// (`record{a:u8,b:list<string>}`, `variant{x(u8),y}`, `result<_,string>`).
fn type_code(ty: &Type) -> String {
    fn join<I: Iterator<Item = String>>(items: I) -> String {
        items.collect::<Vec<_>>().join(",")
    }
    let opt = |t: Option<Type>| t.map_or("_".to_string(), |t| type_code(&t));
    match ty.kind() {
        WasmTypeKind::List => format!("list<{}>", type_code(&ty.list_element_type().unwrap())),
        WasmTypeKind::Option => format!("option<{}>", type_code(&ty.option_some_type().unwrap())),
        WasmTypeKind::Result => {
            let (ok, err) = ty.result_types().unwrap();
            format!("result<{},{}>", opt(ok), opt(err))
        }
        WasmTypeKind::Tuple => format!(
            "tuple<{}>",
            join(ty.tuple_element_types().map(|t| type_code(&t)))
        ),
        WasmTypeKind::Record => format!(
            "record{{{}}}",
            join(
                ty.record_fields()
                    .map(|(n, t)| format!("{n}:{}", type_code(&t)))
            )
        ),
        WasmTypeKind::Variant => format!(
            "variant{{{}}}",
            join(ty.variant_cases().map(|(n, t)| match t {
                Some(t) => format!("{n}({})", type_code(&t)),
                None => n.to_string(),
            }))
        ),
        WasmTypeKind::Enum => format!("enum{{{}}}", join(ty.enum_cases().map(|n| n.to_string()))),
        WasmTypeKind::Flags => {
            format!("flags{{{}}}", join(ty.flags_names().map(|n| n.to_string())))
        }
        kind => kind.to_string(),
    }
}

/// Reads a type code back (for the probes, which are written as text).
struct TypeReader<'a> {
    s: &'a str,
}

impl TypeReader<'_> {
    fn parse(code: &str) -> Type {
        let mut r = TypeReader { s: code };
        let t = r.ty();
        assert!(r.s.is_empty(), "trailing text in type code {code:?}");
        t
    }
    fn eat(&mut self, prefix: &str) -> bool {
        let found = self.s.starts_with(prefix);
        if found {
            self.s = &self.s[prefix.len()..];
        }
        found
    }
    fn name(&mut self) -> String {
        let end = self
            .s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(self.s.len());
        let (name, rest) = self.s.split_at(end);
        self.s = rest;
        name.to_string()
    }
    /// `item (',' item)*` up to `close`.
    fn list<T>(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let mut items = vec![item(self)];
        while self.eat(",") {
            items.push(item(self));
        }
        assert!(
            self.eat(close),
            "expected {close} in type code at {:?}",
            self.s
        );
        items
    }
    fn maybe(&mut self) -> Option<Type> {
        if self.eat("_") {
            None
        } else {
            Some(self.ty())
        }
    }
    fn ty(&mut self) -> Type {
        if self.eat("list<") {
            return Type::list(self.list(">", Self::ty).remove(0));
        }
        if self.eat("option<") {
            return Type::option(self.list(">", Self::ty).remove(0));
        }
        if self.eat("result<") {
            let mut parts = self.list(">", Self::maybe);
            let err = parts.pop().unwrap();
            return Type::result(parts.pop().unwrap(), err);
        }
        if self.eat("tuple<") {
            return Type::tuple(self.list(">", Self::ty)).unwrap();
        }
        if self.eat("record{") {
            let fields = self.list("}", |r| {
                let n = r.name();
                assert!(r.eat(":"));
                (n, r.ty())
            });
            return Type::record(fields).unwrap();
        }
        if self.eat("variant{") {
            let cases = self.list("}", |r| {
                let n = r.name();
                let payload = r.eat("(").then(|| r.list(")", Self::ty).remove(0));
                (n, payload)
            });
            return Type::variant(cases).unwrap();
        }
        if self.eat("enum{") {
            return Type::enum_ty(self.list("}", Self::name)).unwrap();
        }
        if self.eat("flags{") {
            return Type::flags(self.list("}", Self::name)).unwrap();
        }
        let name = self.name();
        SCALARS
            .iter()
            .find(|t| t.kind().to_string() == name)
            .unwrap_or_else(|| panic!("unknown type {name:?}"))
            .clone()
    }
}

// ---------------------------------------------------------------------------
// Random values
// ---------------------------------------------------------------------------

/// Integers biased towards the interesting ones: bounds, small values and
/// powers of ten, then any bit pattern (truncated to the type by the caller).
fn gen_bits(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => *rng.pick(&[
            0,
            1,
            u64::MAX,
            0x7F,
            0x80,
            0xFF,
            0x7FFF,
            0x8000,
            0xFFFF,
            0x7FFF_FFFF,
            0x8000_0000,
            0xFFFF_FFFF,
            i64::MAX as u64,
            1 << 63,
        ]),
        1 => rng.below(100),
        2 => 10u64.pow(rng.range(0, 19)).wrapping_sub(rng.below(3)),
        3 => rng.below(100).wrapping_neg(),
        _ => rng.next(),
    }
}

/// f64 values that are hard to print: halfway cases between two shortest
/// candidates (x.25 and x.75 at 2^50), powers of two (whose interval is
/// narrower below), subnormals, the edges of the plain-decimal range, plus
/// any bit pattern.
fn gen_f64(rng: &mut Rng) -> f64 {
    let m53 = (1u64 << 52) | (rng.next() >> 12);
    match rng.below(10) {
        0 => *rng.pick(&[
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.1,
            0.3,
            1e21,
            1e-7,
            1e23,
            9007199254740993.0,
        ]),
        1 => m53 as f64 / f64::from(1u32 << rng.range(1, 4)),
        2 => 2f64.powi(rng.range(0, 2098) as i32 - 1074),
        3 => f64::from_bits(rng.below(1 << 52)),
        4 => {
            let edge = *rng.pick(&[1e21f64, 1e-7, 1e16, 1e17, 1.0]);
            let steps = rng.below(5) as i64 - 2;
            f64::from_bits((edge.to_bits() as i64 + steps) as u64)
        }
        5 => format!("{}e{}", rng.below(1_000_000), rng.range(0, 60) as i32 - 30)
            .parse()
            .unwrap(),
        6 => rng.below(1 << 20) as f64 * if rng.chance(50) { 1.0 } else { -1.0 },
        _ => f64::from_bits(rng.next()),
    }
}

fn gen_f32(rng: &mut Rng) -> f32 {
    let m24 = (1u32 << 23) | (rng.next() as u32 >> 9);
    match rng.below(10) {
        0 => *rng.pick(&[
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            0.1,
            16777217.0,
            1e21,
            1e-7,
            3.4e38,
        ]),
        1 => m24 as f32 / (1u32 << rng.range(1, 4)) as f32,
        2 => 2f32.powi(rng.range(0, 276) as i32 - 149),
        3 => f32::from_bits(rng.below(1 << 23) as u32),
        4 => {
            let edge = *rng.pick(&[1e21f32, 1e-7, 1e7, 1e8, 1.0]);
            let steps = rng.below(5) as i32 - 2;
            f32::from_bits((edge.to_bits() as i32 + steps) as u32)
        }
        5 => format!("{}e{}", rng.below(10_000), rng.range(0, 40) as i32 - 20)
            .parse()
            .unwrap(),
        _ => f32::from_bits(rng.next() as u32),
    }
}

/// Characters from the ranges where printing differs: controls, quotes,
/// Latin-1 (no-break space, soft hyphen), combining marks, zero-width and
/// bidi controls, variation selectors, tags, private use, unassigned code
/// points and non-characters, and any scalar value.
fn gen_char(rng: &mut Rng) -> char {
    const RANGES: [(u32, u32); 14] = [
        (0x20, 0x7E),
        (0x00, 0x1F),
        (0x7F, 0xFF),
        (0x300, 0x36F),
        (0x200B, 0x206F),
        (0xFE00, 0xFE0F),
        (0xE0000, 0xE007F),
        (0xE000, 0xF8FF),
        (0x0378, 0x0379),
        (0xFFF0, 0xFFFF),
        (0x1F300, 0x1FAFF),
        (0x0900, 0x0DFF),
        (0x0, 0x10FFFF),
        (0x0, 0xFFFF),
    ];
    if rng.chance(10) {
        return *rng.pick(&[
            '"', '\'', '\\', '\n', '\r', '\t', '\u{0}', ' ', '\u{85}', '\u{2028}',
        ]);
    }
    let (lo, hi) = *rng.pick(&RANGES);
    loop {
        if let Some(c) = char::from_u32(rng.range(lo, hi)) {
            return c;
        }
    }
}

fn gen_string(rng: &mut Rng) -> String {
    let len = if rng.chance(10) { 0 } else { rng.range(1, 12) };
    (0..len).map(|_| gen_char(rng)).collect()
}

fn gen_value(rng: &mut Rng, ty: &Type) -> Value {
    let bits = gen_bits(rng);
    match ty.kind() {
        WasmTypeKind::Bool => Value::make_bool(rng.chance(50)),
        WasmTypeKind::S8 => Value::make_s8(bits as i8),
        WasmTypeKind::U8 => Value::make_u8(bits as u8),
        WasmTypeKind::S16 => Value::make_s16(bits as i16),
        WasmTypeKind::U16 => Value::make_u16(bits as u16),
        WasmTypeKind::S32 => Value::make_s32(bits as i32),
        WasmTypeKind::U32 => Value::make_u32(bits as u32),
        WasmTypeKind::S64 => Value::make_s64(bits as i64),
        WasmTypeKind::U64 => Value::make_u64(bits),
        WasmTypeKind::F32 => Value::make_f32(gen_f32(rng)),
        WasmTypeKind::F64 => Value::make_f64(gen_f64(rng)),
        WasmTypeKind::Char => Value::make_char(gen_char(rng)),
        WasmTypeKind::String => Value::make_string(gen_string(rng).into()),
        _ => gen_compound(rng, ty),
    }
}

fn gen_compound(rng: &mut Rng, ty: &Type) -> Value {
    match ty.kind() {
        WasmTypeKind::List => {
            let elem = ty.list_element_type().unwrap();
            let n = rng.below(5);
            Value::make_list(ty, (0..n).map(|_| gen_value(rng, &elem))).unwrap()
        }
        WasmTypeKind::Record => {
            let fields: Vec<(String, Value)> = ty
                .record_fields()
                .map(|(n, t)| (n.to_string(), gen_value(rng, &t)))
                .collect();
            Value::make_record(ty, fields.iter().map(|(n, v)| (n.as_str(), v.clone()))).unwrap()
        }
        WasmTypeKind::Tuple => {
            let types: Vec<Type> = ty.tuple_element_types().collect();
            Value::make_tuple(ty, types.iter().map(|t| gen_value(rng, t))).unwrap()
        }
        WasmTypeKind::Variant => {
            let cases: Vec<(String, Option<Type>)> = ty
                .variant_cases()
                .map(|(n, t)| (n.to_string(), t))
                .collect();
            let (name, payload) = rng.pick(&cases);
            let value = payload.as_ref().map(|t| gen_value(rng, t));
            Value::make_variant(ty, name, value).unwrap()
        }
        WasmTypeKind::Enum => {
            let cases: Vec<String> = ty.enum_cases().map(|n| n.to_string()).collect();
            let case: &String = rng.pick(&cases);
            Value::make_enum(ty, case).unwrap()
        }
        WasmTypeKind::Option => {
            let inner = ty.option_some_type().unwrap();
            let value = rng.chance(70).then(|| gen_value(rng, &inner));
            Value::make_option(ty, value).unwrap()
        }
        WasmTypeKind::Result => {
            let (ok, err) = ty.result_types().unwrap();
            let is_ok = rng.chance(50);
            let side = if is_ok { ok } else { err };
            let payload = side.as_ref().map(|t| gen_value(rng, t));
            Value::make_result(ty, if is_ok { Ok(payload) } else { Err(payload) }).unwrap()
        }
        WasmTypeKind::Flags => {
            let names: Vec<String> = ty.flags_names().map(|n| n.to_string()).collect();
            let set: Vec<&str> = names
                .iter()
                .filter(|_| rng.chance(50))
                .map(|s| s.as_str())
                .collect();
            Value::make_flags(ty, set).unwrap()
        }
        kind => panic!("no values of {kind}"),
    }
}

// ---------------------------------------------------------------------------
// What wasmplug should print: wasm-wave's writer, rebuilt here so that the
// documented differences can be applied (Mode::Wasmplug). In Mode::Reference
// it must produce exactly wasm_wave::to_string, which `check_value` asserts
// on every value, so the two modes differ by the documented rules only.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Reference,
    Wasmplug,
}

fn reference(v: &Value) -> String {
    wasm_wave::to_string(v).expect("wasm-wave cannot print a value")
}

/// docs/wave.md, difference 1: outside 1e-7 <= |x| < 1e21 wasmplug uses an
/// exponent (Rust's `{:e}`: the same shortest digits) where Rust's Display
/// writes every zero.
fn float_text<F: Display + LowerExp>(
    x: F,
    finite_nonzero: bool,
    leaf: String,
    mode: Mode,
) -> String {
    if mode == Mode::Reference || !finite_nonzero {
        return leaf;
    }
    let sci = format!("{x:e}");
    let exp: i32 = sci[sci.find('e').unwrap() + 1..].parse().unwrap();
    if (-7..21).contains(&exp) {
        leaf
    } else {
        sci
    }
}

fn label(out: &mut String, name: &str) {
    if Keyword::decode(name).is_some() {
        out.push('%');
    }
    out.push_str(name);
}

fn write_seq<'a>(
    out: &mut String,
    items: impl Iterator<Item = Cow<'a, Value>>,
    mode: Mode,
    open: &str,
    close: &str,
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(out, &item, mode);
    }
    out.push_str(close);
}

fn write_payload(out: &mut String, payload: Option<Cow<'_, Value>>, mode: Mode) {
    if let Some(p) = payload {
        out.push('(');
        write(out, &p, mode);
        out.push(')');
    }
}

/// docs/wave.md, difference 2: wasmplug prints a record's `none` fields,
/// which wasm-wave leaves out (`{:}` when none is left).
fn write_record(out: &mut String, v: &Value, mode: Mode) {
    let mut first = true;
    out.push('{');
    for (name, field) in v.unwrap_record() {
        let none = field.kind() == WasmTypeKind::Option && field.unwrap_option().is_none();
        if none && mode == Mode::Reference {
            continue;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(&name);
        out.push_str(": ");
        write(out, &field, mode);
    }
    if first {
        out.push(':');
    }
    out.push('}');
}

fn write(out: &mut String, v: &Value, mode: Mode) {
    match v.kind() {
        WasmTypeKind::F32 => {
            let x = v.unwrap_f32();
            out.push_str(&float_text(
                x,
                x.is_finite() && x != 0.0,
                reference(v),
                mode,
            ));
        }
        WasmTypeKind::F64 => {
            let x = v.unwrap_f64();
            out.push_str(&float_text(
                x,
                x.is_finite() && x != 0.0,
                reference(v),
                mode,
            ));
        }
        WasmTypeKind::List => write_seq(out, v.unwrap_list(), mode, "[", "]"),
        WasmTypeKind::Tuple => write_seq(out, v.unwrap_tuple(), mode, "(", ")"),
        WasmTypeKind::Record => write_record(out, v, mode),
        WasmTypeKind::Variant => {
            let (name, payload) = v.unwrap_variant();
            label(out, &name);
            write_payload(out, payload, mode);
        }
        WasmTypeKind::Enum => label(out, &v.unwrap_enum()),
        WasmTypeKind::Option => match v.unwrap_option() {
            Some(p) => {
                out.push_str("some");
                write_payload(out, Some(p), mode);
            }
            None => out.push_str("none"),
        },
        WasmTypeKind::Result => {
            let (name, payload) = match v.unwrap_result() {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            out.push_str(name);
            write_payload(out, payload, mode);
        }
        WasmTypeKind::Flags => {
            let names: Vec<_> = v.unwrap_flags().collect();
            out.push('{');
            out.push_str(&names.join(", "));
            out.push('}');
        }
        _ => out.push_str(&reference(v)), // bool, integers, char, string
    }
}

fn expected(v: &Value, mode: Mode) -> String {
    let mut out = String::new();
    write(&mut out, v, mode);
    out
}

// ---------------------------------------------------------------------------
// Other spellings of the same value, which both readers must accept
// ---------------------------------------------------------------------------

/// Blanks and comments between tokens.
fn space(rng: &mut Rng) -> &'static str {
    match rng.below(12) {
        0 => " ",
        1 => "\n  ",
        2 => "\t",
        3 => " // a comment, \"quoted\" } ]\n",
        4 => "\r\n",
        _ => "",
    }
}

fn unicode_escape(rng: &mut Rng, c: char) -> String {
    let hex = format!("{:x}", c as u32);
    let hex = if rng.chance(30) {
        hex.to_uppercase()
    } else {
        hex
    };
    let zeros = rng.below((6 - hex.len()) as u64 + 1) as usize;
    format!("\\u{{{}{hex}}}", "0".repeat(zeros))
}

/// One character inside quotes: literal where allowed, else an escape.
/// Literal NUL is never written: the C API takes NUL-terminated text.
fn spell_char(rng: &mut Rng, c: char, quote: char, multiline: bool) -> String {
    let must_escape = c == quote
        || c == '\\'
        || c == '\0'
        || (c == '\n' && !multiline)
        || (multiline && (c == '"' || c == '\r'));
    if !must_escape && rng.chance(70) {
        return c.to_string();
    }
    let named = match c {
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        '\'' => Some("\\'"),
        '\t' => Some("\\t"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        _ => None,
    };
    match named {
        Some(n) if rng.chance(70) => n.to_string(),
        _ => unicode_escape(rng, c),
    }
}

/// A `"""` string: every line (empty ones too, which wasm-wave requires)
/// indented at least as much as the closing quotes.
fn spell_multiline(rng: &mut Rng, s: &str) -> String {
    let indent = " ".repeat(rng.below(4) as usize);
    let mut out = format!("\"\"\"\n{indent}");
    for c in s.chars() {
        match c {
            '\n' if rng.chance(80) => {
                out.push('\n');
                out.push_str(&indent);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push_str(&spell_char(rng, c, '"', true)),
        }
    }
    out.push('\n');
    out.push_str(&indent);
    out.push_str("\"\"\"");
    out
}

fn spell_string(rng: &mut Rng, s: &str) -> String {
    if rng.chance(20) {
        return spell_multiline(rng, s);
    }
    let body: String = s.chars().map(|c| spell_char(rng, c, '"', false)).collect();
    format!("\"{body}\"")
}

/// Other ways to write a float: more digits, exponents, trailing zeros.
fn spell_float<F: Display + LowerExp + Copy>(
    rng: &mut Rng,
    x: F,
    leaf: &str,
    max_digits: usize,
) -> String {
    if leaf == "nan" || leaf.ends_with("inf") {
        return leaf.to_string();
    }
    match rng.below(6) {
        0 => format!("{x:e}"),
        1 => format!("{x:e}").replace('e', "E"),
        2 => format!("{x:.*e}", max_digits + rng.below(8) as usize),
        3 if !leaf.contains('.') => format!("{leaf}.0"),
        4 => format!("{leaf}e0"),
        _ => leaf.to_string(),
    }
}

fn spell_label(rng: &mut Rng, name: &str) -> String {
    let percent = Keyword::decode(name).is_some() || rng.chance(20);
    format!("{}{name}", if percent { "%" } else { "" })
}

/// `open item, item[,] close` with blanks anywhere between tokens.
fn spell_seq(rng: &mut Rng, items: Vec<String>, open: &str, close: &str) -> String {
    let mut out = format!("{open}{}", space(rng));
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        out.push_str(&item);
        out.push_str(space(rng));
        if i + 1 < n || rng.chance(20) {
            out.push(',');
            out.push_str(space(rng));
        }
    }
    out.push_str(close);
    out
}

fn spell_payload(rng: &mut Rng, head: String, payload: Option<Cow<'_, Value>>) -> String {
    match payload {
        Some(p) => format!("{head}{}({}{})", space(rng), spell(rng, &p), space(rng)),
        None => head,
    }
}

/// WAVE lets `some(x)` and `ok(x)` be written as `x` when x is not itself an
/// option or result.
fn flattenable(v: &Value) -> bool {
    !matches!(v.kind(), WasmTypeKind::Option | WasmTypeKind::Result)
}

fn spell_record(rng: &mut Rng, v: &Value) -> String {
    let mut fields: Vec<String> = Vec::new();
    for (name, field) in v.unwrap_record() {
        let none = field.kind() == WasmTypeKind::Option && field.unwrap_option().is_none();
        if none && rng.chance(50) {
            continue; // missing option fields are none
        }
        fields.push(format!(
            "{}{}:{}{}",
            spell_label(rng, &name),
            space(rng),
            space(rng),
            spell(rng, &field)
        ));
    }
    // Any order: shuffle.
    for i in (1..fields.len()).rev() {
        fields.swap(i, rng.below(i as u64 + 1) as usize);
    }
    if fields.is_empty() {
        return "{:}".to_string();
    }
    spell_seq(rng, fields, "{", "}")
}

fn spell(rng: &mut Rng, v: &Value) -> String {
    let leaf = reference(v);
    match v.kind() {
        WasmTypeKind::S8 | WasmTypeKind::S16 | WasmTypeKind::S32 | WasmTypeKind::S64
            if leaf == "0" && rng.chance(50) =>
        {
            "-0".to_string()
        }
        WasmTypeKind::F32 => spell_float(rng, v.unwrap_f32(), &leaf, 9),
        WasmTypeKind::F64 => spell_float(rng, v.unwrap_f64(), &leaf, 17),
        WasmTypeKind::Char => format!("'{}'", spell_char(rng, v.unwrap_char(), '\'', false)),
        WasmTypeKind::String => spell_string(rng, &v.unwrap_string()),
        WasmTypeKind::List => {
            let items = v.unwrap_list().map(|x| spell(rng, &x)).collect();
            spell_seq(rng, items, "[", "]")
        }
        WasmTypeKind::Tuple => {
            let items = v.unwrap_tuple().map(|x| spell(rng, &x)).collect();
            spell_seq(rng, items, "(", ")")
        }
        WasmTypeKind::Record => spell_record(rng, v),
        WasmTypeKind::Variant => {
            let (name, payload) = v.unwrap_variant();
            let head = spell_label(rng, &name);
            spell_payload(rng, head, payload)
        }
        WasmTypeKind::Enum => spell_label(rng, &v.unwrap_enum()),
        WasmTypeKind::Option => match v.unwrap_option() {
            Some(p) if flattenable(&p) && rng.chance(50) => spell(rng, &p),
            Some(p) => spell_payload(rng, "some".to_string(), Some(p)),
            None => "none".to_string(),
        },
        WasmTypeKind::Result => match v.unwrap_result() {
            Ok(Some(p)) if flattenable(&p) && rng.chance(50) => spell(rng, &p),
            Ok(p) => spell_payload(rng, "ok".to_string(), p),
            Err(p) => spell_payload(rng, "err".to_string(), p),
        },
        WasmTypeKind::Flags => {
            // No `%` here: wasm-wave keeps it as part of a flag's name.
            let mut names: Vec<String> = v.unwrap_flags().map(|n| n.to_string()).collect();
            names.reverse();
            if names.is_empty() {
                "{}".to_string()
            } else {
                spell_seq(rng, names, "{", "}")
            }
        }
        _ => leaf,
    }
}

// ---------------------------------------------------------------------------
// Edge cases: both readers accept (to the same value) or both refuse, unless
// the case is one of the documented differences.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Agree,
    /// docs/wave.md: wasmplug refuses what wasm-wave reads.
    WasmplugRefuses,
    /// docs/wave.md: wasmplug reads what wasm-wave refuses.
    WasmplugAccepts,
}

#[derive(Clone)]
struct Probe {
    ty: String,
    text: String,
    expect: Expect,
}

fn probe(ty: &str, text: &str) -> Probe {
    Probe {
        ty: ty.to_string(),
        text: text.to_string(),
        expect: Expect::Agree,
    }
}

fn differs(ty: &str, text: &str, expect: Expect) -> Probe {
    Probe {
        ty: ty.to_string(),
        text: text.to_string(),
        expect,
    }
}

fn integer_probes() -> Vec<Probe> {
    let bounds: [(&str, i128, i128); 8] = [
        ("s8", i8::MIN.into(), i8::MAX.into()),
        ("u8", 0, u8::MAX.into()),
        ("s16", i16::MIN.into(), i16::MAX.into()),
        ("u16", 0, u16::MAX.into()),
        ("s32", i32::MIN.into(), i32::MAX.into()),
        ("u32", 0, u32::MAX.into()),
        ("s64", i64::MIN.into(), i64::MAX.into()),
        ("u64", 0, u64::MAX.into()),
    ];
    let mut out = Vec::new();
    for (ty, min, max) in bounds {
        let numbers = [min, max, min - 1, max + 1, 0, 1, -1];
        for n in numbers {
            out.push(probe(ty, &n.to_string()));
        }
        for text in [
            "-0",
            "-00",
            "00",
            "01",
            "+1",
            "1.0",
            "1e2",
            "1E0",
            "-",
            "0x10",
            "1_000",
            "99999999999999999999999",
            "-99999999999999999999999",
            "inf",
            "nan",
            "-inf",
            " 7 ",
            "7 // seven",
            "'7'",
            "\"7\"",
            "true",
        ] {
            out.push(probe(ty, text));
        }
    }
    out
}

fn float_probes() -> Vec<Probe> {
    let mut out = Vec::new();
    for ty in ["f32", "f64"] {
        for text in [
            "0",
            "-0",
            "-0.0",
            "0.0e-5",
            "nan",
            "inf",
            "-inf",
            "-nan",
            "+inf",
            "NaN",
            "Infinity",
            "infinity",
            "1.",
            ".5",
            "1e",
            "1e+",
            "01",
            "0.1e1",
            "1E5",
            "1e+5",
            "123456789012345678901234567890",
            "0.000000000000000000000000000000001",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1e-400",
            "-1e-400",
            "1.4e-45",
            "7e-46",
            "7.1e-46",
            "3.4028235e38",
            "3.4028235677973366e38",
            "1e00000000000000000000001",
            "1e-99999999999999",
            "0e99999999999",
            "1.5",
            "2.5",
            "-2.5e-3",
            "9007199254740993",
            "1 ",
            "1,",
            "1..5",
            "1e5.5",
            "- 1",
        ] {
            out.push(probe(ty, text));
        }
        // Overflow reads as infinity in Rust's parser (so in wasm-wave);
        // wasmplug refuses it as out of range.
        for text in ["1e400", "-1e400", "1e309", "1.8e308"] {
            out.push(differs(ty, text, Expect::WasmplugRefuses));
        }
    }
    for text in [
        "3.5e38",
        "-3.5e38",
        "1e39",
        "3.4028236e38",
        "1.7976931348623157e308",
    ] {
        out.push(differs("f32", text, Expect::WasmplugRefuses));
        out.push(probe("f64", text));
    }
    out.push(probe("f64", "1.7976931348623158e308"));
    out
}

fn text_probes() -> Vec<Probe> {
    let mut out = Vec::new();
    for text in [
        "'a'",
        "''",
        "'ab'",
        "'\\u{D800}'",
        "'\\u{DFFF}'",
        "'\\u{110000}'",
        "'\\u{}'",
        "'\\u{0000041}'",
        "'\\u{000041}'",
        "'\\x41'",
        "'\\0'",
        "'\n'",
        "'\"'",
        "'\\''",
        "'''",
        "'\\u{1F600}'",
        "'\u{301}'",
        "'e\u{301}'",
        "'\\u41'",
        "'\\u{41'",
        "'a",
        "\"a\"",
        "'\\U{41}'",
        "'\\N'",
    ] {
        out.push(probe("char", text));
    }
    for text in [
        "\"\"",
        "\"a\\qb\"",
        "\"abc",
        "\"a\nb\"",
        "\"\\u{D800}\"",
        "\"'\"",
        "\"\\'\"",
        "\"\\u{10FFFF}\"",
        "\"a\tb\rc\"",
        "\"\"\"\n\"\"\"",
        "\"\"\"\n  a\n  \"\"\"",
        "\"\"\"a\n\"\"\"",
        "\"\"\"\n a\n  \"\"\"",
        "\"\"\"\n  a\n  b \"\"\"",
        "\"\"\"\r\n  a\r\n  b\r\n  \"\"\"",
        "\"\"\"\n  \"\"\" \"\"\"",
        "\"\"\"\n",
        "\"\"\"\n  a\\\n  \"\"\"",
        "\"\"\"\n  \\u{41}\\n\\\"\"\"\n  \"\"\"",
        "'a'",
    ] {
        out.push(probe("string", text));
    }
    // An empty line inside a multiline string: wasm-wave wants it indented
    // like the others, wasmplug takes it as empty.
    out.push(differs(
        "string",
        "\"\"\"\n  a\n\n  b\n  \"\"\"",
        Expect::WasmplugAccepts,
    ));
    out
}

fn compound_probes() -> Vec<Probe> {
    let rec = "record{a:u8,b:option<u8>}";
    let opt_rec = "record{a:option<u8>,b:option<string>}";
    let var = "variant{none,some(u8),x(string),y}";
    let mut out = vec![
        probe(rec, "{a: 1, b: some(2)}"),
        probe(rec, "{a: 1}"),
        probe(rec, "{b: 2}"),
        probe(rec, "{a: 1, a: 2}"),
        probe(rec, "{%a: 1, %b: 2,}"),
        probe(rec, "{:}"),
        probe(rec, "{a 1}"),
        probe(rec, "{}"),
        probe(rec, "{a: none}"),
        probe(opt_rec, "{:}"),
        probe(opt_rec, "{a: none}"),
        probe(opt_rec, "{: }"),
        probe(opt_rec, "{ : }"),
        probe(opt_rec, "{:,}"),
        probe(var, "%none"),
        probe(var, "%some(1)"),
        probe(var, "x(\"a\")"),
        probe(var, "y"),
        probe(var, "y()"),
        probe(var, "x"),
        probe(var, "z"),
        probe(var, "%y"),
        probe(var, "%x (\"a\")"),
        probe("enum{a,b,ok}", "%ok"),
        probe("enum{a,b,ok}", "a"),
        probe("enum{a,b,ok}", "c"),
        probe("enum{a,b,ok}", "a(1)"),
        probe("enum{a,b,ok}", "%a"),
        probe("flags{a,b,none}", "{}"),
        probe("flags{a,b,none}", "{b, a}"),
        probe("flags{a,b,none}", "{none}"),
        probe("flags{a,b,none}", "{none, a,}"),
        probe("flags{a,b,none}", "{a, a}"),
        probe("flags{a,b,none}", "{c}"),
        probe("flags{a,b,none}", "{a: 1}"),
        probe("flags{a,b,none}", "{,}"),
        probe("option<u8>", "5"),
        probe("option<u8>", "some(5)"),
        probe("option<u8>", "none"),
        probe("option<u8>", "none()"),
        probe("option<u8>", "some"),
        probe("option<u8>", "some()"),
        probe("option<option<u8>>", "5"),
        probe("option<option<u8>>", "some(5)"),
        probe("option<option<u8>>", "some(none)"),
        probe("option<option<u8>>", "some(some(5))"),
        probe("option<result<u8,u8>>", "ok(1)"),
        probe("result<u8,string>", "7"),
        probe("result<u8,string>", "ok(7)"),
        probe("result<u8,string>", "err(\"x\")"),
        probe("result<u8,string>", "err"),
        probe("result<u8,string>", "ok"),
        probe("result<_,string>", "ok"),
        probe("result<_,string>", "ok(1)"),
        probe("result<_,_>", "err"),
        probe("result<_,_>", "err()"),
        probe("result<option<u8>,_>", "5"),
        probe("result<option<u8>,_>", "ok(5)"),
        probe("list<u8>", "[]"),
        probe("list<u8>", "[,]"),
        probe("list<u8>", "[1,]"),
        probe("list<u8>", "[1,,2]"),
        probe("list<u8>", "[1 2]"),
        probe("list<u8>", "[1"),
        probe("list<u8>", "[1]]"),
        probe("list<u8>", "[1] // done"),
        probe("list<u8>", "// x\n[1]"),
        probe("tuple<u8,string>", "(1, \"a\")"),
        probe("tuple<u8,string>", "(1)"),
        probe("tuple<u8,string>", "(1, \"a\", 2)"),
        probe("tuple<u8,string>", "(1, \"a\",)"),
        probe("tuple<u8,string>", "()"),
        probe("tuple<u8>", "1"),
        probe("bool", "true"),
        probe("bool", "%true"),
        probe("bool", "True"),
        probe("bool", "1"),
        probe("u8", ""),
        probe("u8", "   "),
        probe("u8", "// only a comment"),
        probe("u8", "1 2"),
    ];
    // Unknown fields are ignored by wasm-wave (not even type-checked);
    // wasmplug refuses them, as it refuses unknown cases and flags.
    out.push(differs(rec, "{a: 1, c: 2}", Expect::WasmplugRefuses));
    out.push(differs(
        rec,
        "{a: 1, c: \"not a u8\"}",
        Expect::WasmplugRefuses,
    ));
    // wasm-wave reads record fields and flags without the commas between
    // them; wasmplug wants the commas, as in lists and tuples.
    out.push(differs(rec, "{a: 1 b: 2}", Expect::WasmplugRefuses));
    out.push(differs("flags{a,b,none}", "{a b}", Expect::WasmplugRefuses));
    // `{}` is an empty flags value to wasm-wave, whatever the type; wasmplug
    // also reads it as a record whose fields are all left out.
    out.push(differs(opt_rec, "{}", Expect::WasmplugAccepts));
    // A case named like a keyword needs its `%` in wasm-wave; wasmplug knows
    // from the type that `none` here can only be the case.
    out.push(differs(var, "none", Expect::WasmplugAccepts));
    out.push(differs(var, "some(1)", Expect::WasmplugAccepts));
    out.push(differs("enum{a,b,ok}", "ok", Expect::WasmplugAccepts));
    // wasm-wave takes the `%` of a flag as part of its name (and so finds
    // no such flag); wasmplug reads `%` before any label.
    out.push(differs(
        "flags{a,b,none}",
        "{%none, a}",
        Expect::WasmplugAccepts,
    ));
    out.push(differs("flags{a,b,none}", "{%a}", Expect::WasmplugAccepts));
    out.extend(depth_probes());
    out
}

/// The nesting limit (100 levels, as in wasm-wave), with lists and with
/// a flattened option at the bottom: a level in wasmplug, none in wasm-wave,
/// so that what wasmplug reads prints as text it reads back (some(1) is
/// one level deeper than 1).
fn depth_probes() -> Vec<Probe> {
    let mut out = Vec::new();
    for levels in [99usize, 100, 101] {
        let ty = format!("{}u8{}", "list<".repeat(levels - 1), ">".repeat(levels - 1));
        let text = format!("{}1{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
        out.push(probe(&ty, &text));
        let ty = format!(
            "{}option<u8>{}",
            "list<".repeat(levels - 1),
            ">".repeat(levels - 1)
        );
        let expect = if levels == 100 {
            Expect::WasmplugRefuses
        } else {
            Expect::Agree
        };
        out.push(differs(&ty, &text, expect));
    }
    out
}

// ---------------------------------------------------------------------------
// Talking to the driver
// ---------------------------------------------------------------------------

enum Answer {
    /// wasmplug read the text and printed this back.
    Printed(String),
    /// wasmplug refused the text with this message.
    Refused(String),
    /// wasmplug's own round trip failed (its printing did not read back).
    Bug(String),
}

/// Sends every request to the driver (from a thread, so that neither side
/// blocks on a full pipe) and reads the answers in order.
fn ask(driver: &str, requests: &[(String, String)]) -> Vec<Answer> {
    let mut child = Command::new(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {driver}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let mut payload = Vec::new();
    for (ty, text) in requests {
        payload.extend_from_slice(format!("{ty}\n{}\n", text.len()).as_bytes());
        payload.extend_from_slice(text.as_bytes());
    }
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let answers = (0..requests.len())
        .map(|i| read_answer(&mut out, i))
        .collect();
    writer
        .join()
        .unwrap()
        .expect("writing to the driver failed");
    let status = child.wait().unwrap();
    assert!(status.success(), "the driver failed: {status}");
    answers
}

fn read_answer(out: &mut impl BufRead, i: usize) -> Answer {
    let mut head = String::new();
    out.read_line(&mut head).unwrap();
    let (tag, len) = head
        .trim_end()
        .split_once(' ')
        .unwrap_or_else(|| panic!("the driver stopped or said {head:?} at request {i}"));
    let mut body = vec![0; len.parse().expect("bad length from the driver")];
    out.read_exact(&mut body).unwrap();
    let body = String::from_utf8(body).unwrap_or_else(|e| format!("<not UTF-8: {e}>"));
    match tag {
        "OK" => Answer::Printed(body),
        "ERR" => Answer::Refused(body),
        "BUG" => Answer::Bug(body),
        _ => panic!("unknown answer {tag:?} from the driver"),
    }
}

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Report {
    failures: usize,
    checks: usize,
}

fn quote(s: &str) -> String {
    let q = format!("{s:?}");
    if q.len() <= QUOTE_MAX {
        return q;
    }
    let mut cut = QUOTE_MAX;
    while !q.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &q[..cut], s.len())
}

impl Report {
    fn check(&mut self, ok: bool, what: &str, details: &[(&str, &str)]) {
        self.checks += 1;
        if ok {
            return;
        }
        self.failures += 1;
        if self.failures <= SHOW_MAX {
            eprintln!("MISMATCH {}: {what}", self.failures);
            for (k, v) in details {
                eprintln!("  {k:>9}: {}", quote(v));
            }
        }
    }
}

/// A value, the text wasm-wave wrote or another spelling of it, and what
/// the driver answered for that text.
struct Case<'a> {
    ty: &'a Type,
    code: &'a str,
    value: &'a Value,
    text: &'a str,
}

fn check_printed(report: &mut Report, case: &Case, answer: &Answer) {
    let want = expected(case.value, Mode::Wasmplug);
    let refv = reference(case.value);
    let base = [
        ("type", case.code),
        ("input", case.text),
        ("wasm-wave", refv.as_str()),
    ];
    let got = match answer {
        Answer::Printed(got) => got,
        Answer::Refused(msg) | Answer::Bug(msg) => {
            let what = if matches!(answer, Answer::Bug(_)) {
                "wasmplug's own round trip failed"
            } else {
                "wasmplug refused a value wasm-wave reads"
            };
            report.check(false, what, &[base[0], base[1], base[2], ("wasmplug", msg)]);
            return;
        }
    };
    report.check(
        got == &want,
        "wasmplug printed another text",
        &[base[0], base[1], ("expected", &want), ("wasmplug", got)],
    );
    match wasm_wave::from_str::<Value>(case.ty, got) {
        Ok(back) => report.check(
            reference(&back) == refv,
            "wasm-wave reads wasmplug's text as another value",
            &[
                base[0],
                ("wasmplug", got),
                ("was", &refv),
                ("read as", &reference(&back)),
            ],
        ),
        Err(e) => report.check(
            false,
            "wasm-wave cannot read wasmplug's text",
            &[base[0], ("wasmplug", got), ("error", &e.to_string())],
        ),
    }
}

struct Sample {
    ty: Type,
    code: String,
    value: Value,
    texts: Vec<String>,
}

/// One value with its reference text and another spelling; checks that the
/// checker's own writer matches wasm-wave's and that wasm-wave reads the
/// other spelling back (else the fault is in this program, not wasmplug).
fn sample(rng: &mut Rng, ty: Type, value: Value, report: &mut Report) -> Sample {
    let refv = reference(&value);
    let mine = expected(&value, Mode::Reference);
    report.check(
        mine == refv,
        "checker bug: its writer differs from wasm-wave's",
        &[("wasm-wave", &refv), ("checker", &mine)],
    );
    let alt = spell(rng, &value);
    match wasm_wave::from_str::<Value>(&ty, &alt) {
        Ok(back) => report.check(
            reference(&back) == refv,
            "checker bug: wasm-wave reads the respelling as another value",
            &[("text", &alt), ("value", &refv)],
        ),
        Err(e) => report.check(
            false,
            "checker bug: wasm-wave refuses the respelling",
            &[("text", &alt), ("error", &e.to_string())],
        ),
    }
    Sample {
        code: type_code(&ty),
        ty,
        value,
        texts: vec![refv, alt],
    }
}

fn random_samples(rng: &mut Rng, count: usize, report: &mut Report) -> Vec<Sample> {
    (0..count)
        .map(|_| {
            let depth = rng.range(0, 4);
            let ty = gen_type(rng, depth);
            let value = gen_value(rng, &ty);
            sample(rng, ty, value, report)
        })
        .collect()
}

/// Every Unicode scalar value, 256 to a string (surrogates skipped).
fn code_point_samples(rng: &mut Rng, report: &mut Report) -> Vec<Sample> {
    (0u32..0x1100)
        .filter_map(|block| {
            let s: String = (block * 256..block * 256 + 256)
                .filter_map(char::from_u32)
                .collect();
            (!s.is_empty()).then(|| sample(rng, Type::STRING, Value::make_string(s.into()), report))
        })
        .collect()
}

/// Every power of two of both float types (the values whose interval is
/// narrower below) and its neighbours, and powers of ten, 64 to a list.
fn float_samples(rng: &mut Rng, report: &mut Report) -> Vec<Sample> {
    let mut f64s: Vec<f64> = Vec::new();
    let mut f32s: Vec<f32> = Vec::new();
    for bits in (0..2047u64)
        .map(|e| e << 52)
        .chain((0..52).map(|i| 1u64 << i))
    {
        f64s.extend([bits.saturating_sub(1), bits, bits + 1].map(f64::from_bits));
    }
    for bits in (0..255u32)
        .map(|e| e << 23)
        .chain((0..23).map(|i| 1u32 << i))
    {
        f32s.extend([bits.saturating_sub(1), bits, bits + 1].map(f32::from_bits));
    }
    for e in -325..=309 {
        let x: f64 = format!("1e{e}").parse().unwrap();
        f64s.extend([
            x,
            f64::from_bits(x.to_bits().saturating_sub(1)),
            f64::from_bits(x.to_bits() + 1),
        ]);
        if (-46..=39).contains(&e) {
            let y: f32 = format!("1e{e}").parse().unwrap();
            f32s.extend([
                y,
                f32::from_bits(y.to_bits().saturating_sub(1)),
                f32::from_bits(y.to_bits() + 1),
            ]);
        }
    }
    let (t64, t32) = (Type::list(Type::F64), Type::list(Type::F32));
    let mut out = Vec::new();
    for chunk in f64s.chunks(64) {
        let v = Value::make_list(&t64, chunk.iter().map(|&x| Value::make_f64(x))).unwrap();
        out.push(sample(rng, t64.clone(), v, report));
    }
    for chunk in f32s.chunks(64) {
        let v = Value::make_list(&t32, chunk.iter().map(|&x| Value::make_f32(x))).unwrap();
        out.push(sample(rng, t32.clone(), v, report));
    }
    out
}

fn check_samples(driver: &str, samples: &[Sample], report: &mut Report) {
    let requests: Vec<(String, String)> = samples
        .iter()
        .flat_map(|s| s.texts.iter().map(|t| (s.code.clone(), t.clone())))
        .collect();
    let mut answers = ask(driver, &requests).into_iter();
    for s in samples {
        for text in &s.texts {
            let case = Case {
                ty: &s.ty,
                code: &s.code,
                value: &s.value,
                text,
            };
            check_printed(report, &case, &answers.next().unwrap());
        }
    }
}

fn check_probe(report: &mut Report, p: &Probe, answer: &Answer) {
    let ty = TypeReader::parse(&p.ty);
    let reference_read = wasm_wave::from_str::<Value>(&ty, &p.text);
    let (ours, theirs) = (matches!(answer, Answer::Printed(_)), reference_read.is_ok());
    let said = match answer {
        Answer::Printed(t) => format!("read, printed {t}"),
        Answer::Refused(m) => format!("refused: {m}"),
        Answer::Bug(m) => format!("round trip failed: {m}"),
    };
    let theirs_said = match &reference_read {
        Ok(v) => format!("read, printed {}", reference(v)),
        Err(e) => format!("refused: {e}"),
    };
    let details = [
        ("type", p.ty.as_str()),
        ("input", p.text.as_str()),
        ("wasm-wave", &theirs_said),
        ("wasmplug", &said),
    ];
    let agree_expected = match p.expect {
        Expect::Agree => ours == theirs,
        Expect::WasmplugRefuses => !ours && theirs,
        Expect::WasmplugAccepts => ours && !theirs,
    };
    let what = format!("edge case: expected {:?}", p.expect);
    report.check(agree_expected, &what, &details);
    if let (Ok(v), Answer::Printed(got)) = (&reference_read, answer) {
        let case = Case {
            ty: &ty,
            code: &p.ty,
            value: v,
            text: &p.text,
        };
        check_printed(report, &case, &Answer::Printed(got.clone()));
    }
}

fn check_probes(driver: &str, report: &mut Report) -> usize {
    let probes: Vec<Probe> = [
        integer_probes(),
        float_probes(),
        text_probes(),
        compound_probes(),
    ]
    .concat();
    let requests: Vec<(String, String)> = probes
        .iter()
        .map(|p| (p.ty.clone(), p.text.clone()))
        .collect();
    for (p, answer) in probes.iter().zip(ask(driver, &requests)) {
        check_probe(report, p, &answer);
    }
    probes.len()
}

// ---------------------------------------------------------------------------
// gen-table: the escape table of src/component/wave_unicode.h
// ---------------------------------------------------------------------------

/// The code points wasm-wave writes as `\u{...}` in a string (controls,
/// and whatever Rust's char::escape_debug escapes: grapheme extenders and
/// characters that are not printable), as inclusive ranges.
fn escaped_ranges() -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let text = reference(&Value::make_char(c));
        if !text.starts_with("'\\u{") {
            continue;
        }
        let cp = c as u32;
        match ranges.last_mut() {
            // Surrogates are not chars: a range may run across them.
            Some((_, hi)) if *hi + 1 == cp || (*hi == 0xD7FF && cp == 0xE000) => *hi = cp,
            _ => ranges.push((cp, cp)),
        }
    }
    ranges
}

fn gen_table() {
    let ranges = escaped_ranges();
    let (maj, min, patch) = char::UNICODE_VERSION;
    println!("/*");
    println!(" * wave_unicode.h - the characters WAVE text writes as \\u{{...}} escapes:");
    println!(" * those wasm-wave 0.254.2 escapes (Rust's char::is_control, then what");
    println!(" * char::escape_debug escapes: grapheme extenders, and characters that");
    println!(" * are not printable: unassigned, format, private use, separators other");
    println!(" * than the space), as sorted inclusive ranges, for wave.c.");
    println!(" *");
    println!(" * GENERATED, do not edit: by `wasmplug-wave-diff gen-table` (tests/wave-diff,");
    println!(" * which asks wasm-wave itself about every scalar value), built with rustc");
    println!(" * whose Unicode version is {maj}.{min}.{patch}. The differential test checks");
    println!(" * every code point against wasm-wave, so a Rust with newer Unicode data");
    println!(" * makes it fail until this file is generated again (see docs/wave.md).");
    println!(" */");
    println!("#ifndef WP_WAVE_UNICODE_H");
    println!("#define WP_WAVE_UNICODE_H\n");
    println!("#include <stdint.h>\n");
    println!("#define WP_WAVE_UNICODE_VERSION \"{maj}.{min}.{patch}\"\n");
    println!("static const uint32_t wave_escaped[][2] = {{");
    for chunk in ranges.chunks(4) {
        let row: Vec<String> = chunk
            .iter()
            .map(|(a, b)| format!("{{0x{a:X}, 0x{b:X}}}"))
            .collect();
        println!("    {},", row.join(", "));
    }
    println!("}};\n");
    println!("#endif");
}

// ---------------------------------------------------------------------------

fn arg_value(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    Some(
        args.get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a number")),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen-table") => {
            gen_table();
            return ExitCode::SUCCESS;
        }
        Some(d) if !d.starts_with('-') => {}
        _ => {
            eprintln!("usage: wasmplug-wave-diff DRIVER [--count N] [--seed S] | gen-table");
            return ExitCode::from(2);
        }
    }
    let driver = &args[0];
    let count = arg_value(&args, "--count").unwrap_or(DEFAULT_COUNT as u64) as usize;
    let seed = arg_value(&args, "--seed").unwrap_or(0x5741_5645);
    let start = std::time::Instant::now();
    let mut rng = Rng(seed);
    let mut report = Report::default();

    let mut samples = random_samples(&mut rng, count, &mut report);
    samples.extend(code_point_samples(&mut rng, &mut report));
    samples.extend(float_samples(&mut rng, &mut report));
    check_samples(driver, &samples, &mut report);
    let probes = check_probes(driver, &mut report);

    let (maj, min, patch) = char::UNICODE_VERSION;
    eprintln!(
        "wave-diff: {} values ({count} random, seed {seed}; every code point; float powers of 2 \
         and 10) and {probes} edge cases, \
         {} checks against wasm-wave 0.254.2 (Rust's Unicode {maj}.{min}.{patch}) in {:.1} s",
        samples.len(),
        report.checks,
        start.elapsed().as_secs_f64()
    );
    if report.failures > 0 {
        eprintln!(
            "wave-diff: {} MISMATCHES (the first {} above); see docs/wave.md for the \
                   documented differences; an escaping mismatch after a Rust update means \
                   src/component/wave_unicode.h must be generated again (gen-table)",
            report.failures,
            report.failures.min(SHOW_MAX)
        );
        return ExitCode::FAILURE;
    }
    eprintln!("wave-diff: wasmplug agrees with wasm-wave");
    ExitCode::SUCCESS
}
