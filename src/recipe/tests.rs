use super::discover::similar;
use super::*;

const TEXT: &str = "//! Grow a VM's root disk.\n//!\n//! Stops the VM first.\n//!\n//! @param size:size  New virtual size, e.g. 1T (required)\n//! @param vm         VM UUID or name (default: dev)\n//! @param cpus:int   CPUs (default: 4)\n//! @flag  no-start   Leave it stopped\nlet x = 1;\n";

fn recipe() -> Recipe {
    Recipe {
        name: "expand".into(),
        origin: Origin::BuiltIn,
        source_name: "t".into(),
        text: TEXT.into(),
        header: parse_header(TEXT, "t").unwrap(),
        shadows: vec![],
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn header_parses_params() {
    let h = parse_header(TEXT, "t").unwrap();
    assert_eq!(h.summary, "Grow a VM's root disk.");
    assert_eq!(h.details, "Stops the VM first.");
    assert_eq!(h.params.len(), 4);
    assert!(h.params[0].required && h.params[0].kind == Kind::Size);
    assert_eq!(h.params[1].default.as_deref(), Some("dev"));
    assert_eq!(h.params[1].description, "VM UUID or name");
    assert!(h.params[3].flag);
}

#[test]
fn the_summary_is_the_first_paragraph_joined() {
    let h = parse_header("//! Grow a VM's root disk and\n//!   the filesystem on it.\n//!\n//! Stops it.\n//! Then grows it.\n", "t").unwrap();
    assert_eq!(h.summary, "Grow a VM's root disk and the filesystem on it.");
    assert_eq!(h.details, "Stops it.\nThen grows it.");
    let h = parse_header("//! One line, no details.\n//! @flag x  X\n", "t").unwrap();
    assert_eq!((h.summary.as_str(), h.details.as_str()), ("One line, no details.", ""));
}

/// `helix list` and the picker show the summary alone: each built-in recipe's is a whole
/// sentence, and short enough for one line of the list.
#[test]
fn every_built_in_summary_is_one_whole_sentence() {
    for f in BUILTIN_RECIPES.files() {
        let name = f.path().display().to_string();
        let h = parse_header(f.contents_utf8().unwrap(), &name).unwrap();
        let s = h.summary.as_str();
        assert!(s.starts_with(|c: char| c.is_uppercase()), "{name}: {s:?}");
        assert!(s.ends_with(['.', '!', '?']), "{name}: the summary stops mid-sentence: {s:?}");
        assert!(s.chars().count() <= 100, "{name}: the summary is longer than a list line: {s:?}");
    }
}

#[test]
fn args_are_validated_before_running() {
    let r = recipe();
    let a = parse_args(&r, &words("--size 1T --cpus=8 --no-start")).unwrap();
    assert_eq!(a["size"], Value::Str("1T".into()));
    assert_eq!(a["cpus"], Value::Int(8));
    assert_eq!(a["vm"], Value::Str("dev".into()));
    assert_eq!(a["no-start"], Value::Bool(true));
    let e = parse_args(&r, &words("--cpus 8")).unwrap_err().to_string();
    assert!(e.contains("`--size` is required"), "{e}");
    let e = parse_args(&r, &words("--size 1T --cpu 8")).unwrap_err().to_string();
    assert!(e.contains("unknown parameter `--cpu`"), "{e}");
    let e = parse_args(&r, &words("--size 1T --cpus many")).unwrap_err().to_string();
    assert!(e.contains("whole number"), "{e}");
    let e = parse_args(&r, &words("--size huge")).unwrap_err().to_string();
    assert!(e.contains("a size like"), "{e}");
}

#[test]
fn bad_header_type_is_left_out_for_check_to_report() {
    let h = parse_header("//! x\n//! @param a:blob thing\n//! @param b  B\n", "r.rhai").unwrap();
    assert_eq!(h.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["b"]);
    let e = parse_param("a:blob thing", false, "r.rhai", 2).unwrap_err().to_string();
    assert!(e.contains("r.rhai:2") && e.contains("blob"), "{e}");
}

#[test]
fn typo_suggests() {
    assert!(similar("build-qemu", "biuld-qemu"));
    assert!(!similar("setup", "expand-disk"));
}
