//! `tovor plugin new NAME [--kind shop|carrier]`: a new connector crate from the
//! templates in `host/cli/templates/` (`shop/`, `carrier/`).
//!
//! Inside the tovor workspace (`plugins/NAME`), the crate takes its dependencies from the
//! workspace like `plugins/example-shop`; anywhere else it depends on the tovor checkout's
//! `sdk` and `sdk/harness` by path and is a workspace of its own, so it builds standalone.

use std::path::{Component, Path, PathBuf};

use anyhow::Context;

use crate::output::outln;

/// The tovor checkout this binary was built from (`host/cli/../..`).
const CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// The plugin's id, also the crate's name: a-z, 0-9 and '-', starting with a letter.
    pub name: String,
    /// The folder to create the crate in (as <DIR>/<NAME>).
    #[arg(long, value_name = "DIR", default_value = "plugins")]
    pub dir: PathBuf,
    /// What the connector talks to: a shop platform or a parcel carrier.
    #[arg(long, value_enum, default_value_t = TemplateKind::Shop)]
    pub kind: TemplateKind,
    /// The tovor checkout (or its `sdk` folder) a crate outside the tovor workspace
    /// depends on; defaults to the checkout this tovor was built from.
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
}

/// Which template a new crate starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateKind {
    /// A shop platform: orders, webhooks, connection.
    Shop,
    /// A parcel carrier: shipments, labels, tracking, cancellation, lookup, pickup
    /// points, connection.
    Carrier,
}

impl TemplateKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Carrier => "carrier",
        }
    }

    fn files(self) -> &'static [TemplateFile] {
        match self {
            Self::Shop => SHOP_TEMPLATE,
            Self::Carrier => CARRIER_TEMPLATE,
        }
    }

    /// The guide for writing this kind of connector, in the tovor checkout.
    fn guide(self) -> &'static str {
        match self {
            Self::Shop => "docs/writing-a-connector.md",
            Self::Carrier => "docs/writing-a-carrier-connector.md",
        }
    }
}

/// One template file: where it goes in the new crate, and its text.
struct TemplateFile {
    path: &'static str,
    text: &'static str,
}

const SHOP_TEMPLATE: &[TemplateFile] = &[
    TemplateFile {
        path: "Cargo.toml",
        text: include_str!("../../templates/shop/Cargo.toml.tmpl"),
    },
    TemplateFile {
        path: "plugin.toml",
        text: include_str!("../../templates/shop/plugin.toml.tmpl"),
    },
    TemplateFile {
        path: "src/lib.rs",
        text: include_str!("../../templates/shop/src/lib.rs.tmpl"),
    },
    TemplateFile {
        path: "tests/harness.rs",
        text: include_str!("../../templates/shop/tests/harness.rs.tmpl"),
    },
    TemplateFile {
        path: "fixtures/order.json",
        text: include_str!("../../templates/shop/fixtures/order.json.tmpl"),
    },
    TemplateFile {
        path: "README.md",
        text: include_str!("../../templates/shop/README.md.tmpl"),
    },
];

const CARRIER_TEMPLATE: &[TemplateFile] = &[
    TemplateFile {
        path: "Cargo.toml",
        text: include_str!("../../templates/carrier/Cargo.toml.tmpl"),
    },
    TemplateFile {
        path: "plugin.toml",
        text: include_str!("../../templates/carrier/plugin.toml.tmpl"),
    },
    TemplateFile {
        path: "src/lib.rs",
        text: include_str!("../../templates/carrier/src/lib.rs.tmpl"),
    },
    TemplateFile {
        path: "tests/harness.rs",
        text: include_str!("../../templates/carrier/tests/harness.rs.tmpl"),
    },
    TemplateFile {
        path: "fixtures/shipment.json",
        text: include_str!("../../templates/carrier/fixtures/shipment.json.tmpl"),
    },
    TemplateFile {
        path: "fixtures/tracking.json",
        text: include_str!("../../templates/carrier/fixtures/tracking.json.tmpl"),
    },
    TemplateFile {
        path: "README.md",
        text: include_str!("../../templates/carrier/README.md.tmpl"),
    },
];

/// How the new crate gets its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// A member of a workspace that provides tovor's dependencies (`plugins/*` of the
    /// tovor workspace): `workspace = true` throughout, like `plugins/example-shop`.
    TovorWorkspace {
        root: PathBuf,
        /// The `[workspace.package]` keys it inherits.
        inherited: Vec<&'static str>,
        /// Whether the workspace has `[workspace.lints]` to inherit.
        lints: bool,
    },
    /// A member of some other workspace: path and version dependencies, and the
    /// workspace's `[workspace]` and profiles apply.
    OtherWorkspace { root: PathBuf, sdk: SdkPaths },
    /// A workspace of its own, with path and version dependencies.
    Standalone { sdk: SdkPaths },
}

/// Where tovor's `sdk` and `sdk/harness` crates are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkPaths {
    pub sdk: PathBuf,
    pub harness: PathBuf,
}

pub fn run(args: NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let target = args.dir.join(&args.name);
    if target.exists() {
        let empty = target
            .read_dir()
            .with_context(|| format!("{} exists and is not a folder", target.display()))?
            .next()
            .is_none();
        anyhow::ensure!(
            empty,
            "{} exists and is not empty; choose another name or --dir",
            target.display()
        );
    }
    // Everything is checked and rendered before anything is written.
    let absolute = absolute(&target)?;
    let layout = layout_for(&absolute, args.sdk_path.as_deref())?;
    let files = render_all(args.kind, &args.name, &absolute, &layout)?;

    let created = !target.exists();
    let written = write_all(&target, &files);
    if let Err(error) = written {
        if created {
            let _ = std::fs::remove_dir_all(&target);
        }
        return Err(error);
    }
    outln!(
        "created the {} connector {} in {}",
        args.kind.as_str(),
        args.name,
        target.display()
    );
    match &layout {
        Layout::TovorWorkspace { root, .. } => outln!(
            "it is a member of the workspace at {}, which provides its dependencies",
            root.display()
        ),
        Layout::OtherWorkspace { root, .. } => {
            outln!("it is a member of the workspace at {}", root.display());
            outln!(
                "tip: its harness tests run the host's runtime; add\n  \
                 [profile.dev.package.\"*\"]\n  opt-level = 2\n\
                 to {} to keep them quick",
                root.join("Cargo.toml").display()
            );
        }
        Layout::Standalone { sdk } => outln!(
            "it builds on its own, with tovor's SDK from {}",
            sdk.sdk.display()
        ),
    }
    outln!(
        "next: look for TODO in src/lib.rs and plugin.toml, then\n  cd {}\n  cargo test",
        target.display()
    );
    outln!("guide: {}", guide(args.kind).display());
    Ok(())
}

/// The kind's guide in the checkout this tovor was built from, or its path in tovor's
/// repository when that checkout is gone.
fn guide(kind: TemplateKind) -> PathBuf {
    Path::new(CHECKOUT)
        .join(kind.guide())
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(kind.guide()))
}

/// Crate names cargo or Rust refuse, and the crates the connector itself depends on.
const RESERVED: &[&str] = &[
    "test",
    "core",
    "std",
    "alloc",
    "proc-macro",
    "self",
    "crate",
    "super",
    "tovor",
    "tovor-sdk",
    "tovor-harness",
    "serde",
    "anyhow",
    "tokio",
    "wiremock",
];

/// The name is the plugin id (as the host checks it) and the crate's name.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let valid_id = name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    anyhow::ensure!(
        valid_id,
        "{name:?} is not a valid plugin id: use 1 to 63 characters of a-z, 0-9 and '-', \
         starting with a letter (e.g. my-shop)"
    );
    anyhow::ensure!(
        !name.starts_with(|c: char| c.is_ascii_digit()),
        "{name:?}: the plugin id is also the crate's name, and a crate name cannot start \
         with a digit"
    );
    anyhow::ensure!(
        !name.ends_with('-') && !name.contains("--"),
        "{name:?}: use single '-' between words"
    );
    anyhow::ensure!(
        !RESERVED.contains(&name),
        "{name:?} is taken (a Rust or tovor crate name); choose another"
    );
    Ok(())
}

/// `path` made absolute, with `.` and `..` resolved against the longest existing prefix.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_owned();
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", existing.display()))?;
    for part in rest.into_iter().rev() {
        match Path::new(&part).components().next() {
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::CurDir) => {}
            _ => resolved.push(part),
        }
    }
    Ok(resolved)
}

/// Decides how the crate at `target` (absolute) gets its dependencies, from the
/// workspace around it, if any.
pub fn layout_for(target: &Path, sdk_path: Option<&Path>) -> anyhow::Result<Layout> {
    if let Some((root, manifest)) = enclosing_workspace(target)?
        && is_member(&manifest, &root, target)
    {
        if provides_tovor_dependencies(&manifest) {
            let workspace = manifest.get("workspace");
            let has = |table: &str, key: &str| {
                workspace
                    .and_then(|workspace| workspace.get(table))
                    .and_then(|table| table.get(key))
                    .is_some()
            };
            return Ok(Layout::TovorWorkspace {
                inherited: ["version", "edition", "rust-version", "license"]
                    .into_iter()
                    .filter(|key| has("package", key))
                    .collect(),
                lints: workspace.is_some_and(|workspace| workspace.get("lints").is_some()),
                root,
            });
        }
        return Ok(Layout::OtherWorkspace {
            root,
            sdk: find_sdk(sdk_path)?,
        });
    }
    Ok(Layout::Standalone {
        sdk: find_sdk(sdk_path)?,
    })
}

/// The nearest folder above `target` whose `Cargo.toml` has a `[workspace]` table (what
/// cargo would take as the workspace root), with that manifest.
fn enclosing_workspace(target: &Path) -> anyhow::Result<Option<(PathBuf, toml::Table)>> {
    for dir in target.ancestors().skip(1) {
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let manifest: toml::Table = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", manifest_path.display()))?;
        if manifest.contains_key("workspace") {
            return Ok(Some((dir.to_owned(), manifest)));
        }
    }
    Ok(None)
}

/// Whether `target` matches one of the workspace's `members` globs and none of its
/// `exclude` entries.
fn is_member(manifest: &toml::Table, root: &Path, target: &Path) -> bool {
    let Ok(relative) = target.strip_prefix(root) else {
        return false;
    };
    let relative: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    let list = |key: &str| -> Vec<String> {
        manifest
            .get("workspace")
            .and_then(|workspace| workspace.get(key))
            .and_then(toml::Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|entry| entry.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let excluded = list("exclude").iter().any(|entry| {
        let entry: Vec<&str> = entry.split('/').filter(|part| !part.is_empty()).collect();
        relative.len() >= entry.len() && relative.iter().zip(&entry).all(|(a, b)| a == b)
    });
    !excluded
        && list("members")
            .iter()
            .any(|pattern| glob_matches(pattern, &relative))
}

/// A workspace `members` glob against a relative path, segment by segment (`*` and `?`
/// within a segment, as cargo's globs do).
fn glob_matches(pattern: &str, path: &[String]) -> bool {
    let segments: Vec<&str> = pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    segments.len() == path.len()
        && segments
            .iter()
            .zip(path)
            .all(|(pattern, name)| segment_matches(pattern.as_bytes(), name.as_bytes()))
}

fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], name)
                || (!name.is_empty() && segment_matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => segment_matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Whether the workspace declares every dependency the template inherits.
fn provides_tovor_dependencies(manifest: &toml::Table) -> bool {
    let workspace = manifest.get("workspace");
    let dependencies = workspace.and_then(|workspace| workspace.get("dependencies"));
    let package = workspace.and_then(|workspace| workspace.get("package"));
    [
        "tovor-sdk",
        "tovor-harness",
        "serde",
        "serde_json",
        "tokio",
        "anyhow",
    ]
    .iter()
    .all(|name| dependencies.and_then(|deps| deps.get(name)).is_some())
        && ["version", "edition"]
            .iter()
            .all(|key| package.and_then(|package| package.get(key)).is_some())
}

/// tovor's `sdk` and `sdk/harness`: under `--sdk-path` (a checkout or its `sdk` folder),
/// else under the checkout this binary was built from.
pub fn find_sdk(sdk_path: Option<&Path>) -> anyhow::Result<SdkPaths> {
    let base = sdk_path.map_or_else(|| PathBuf::from(CHECKOUT), Path::to_owned);
    let candidates = [base.join("sdk"), base.clone()];
    for sdk in candidates {
        let harness = sdk.join("harness");
        if is_package(&sdk, "tovor-sdk") && is_package(&harness, "tovor-harness") {
            return Ok(SdkPaths {
                sdk: sdk
                    .canonicalize()
                    .with_context(|| format!("cannot resolve {}", sdk.display()))?,
                harness: harness
                    .canonicalize()
                    .with_context(|| format!("cannot resolve {}", harness.display()))?,
            });
        }
    }
    anyhow::bail!(
        "cannot find tovor's SDK (sdk/ with the tovor-sdk crate and sdk/harness) under {}; \
         pass --sdk-path with the path of a tovor checkout",
        base.display()
    )
}

fn is_package(dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|manifest| {
            manifest
                .get("package")
                .and_then(|package| package.get("name"))
                .and_then(toml::Value::as_str)
                .map(|found| found == name)
        })
        .unwrap_or(false)
}

/// A TOML string literal.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `demo-shop` -> `Demo Shop`.
fn platform_name(name: &str) -> String {
    name.split('-')
        .filter(|word| !word.is_empty())
        .map(capitalized)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `demo-shop` -> `DemoShop`.
fn type_name(name: &str) -> String {
    name.split('-').map(capitalized).collect()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Replaces every `{{key}}` in `template`.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

/// The placeholder values for the crate `name` at `target` (absolute) in `layout`.
fn values(name: &str, target: &Path, layout: &Layout) -> Vec<(&'static str, String)> {
    const PROFILES: &str = "\
# Built alone, this crate is its own workspace.
[workspace]

# The harness runs the host's runtime (wasmtime) in the tests: optimise dependencies even
# in test builds, or compiling the component takes ages.
[profile.dev]
debug = \"line-tables-only\"

[profile.dev.package.\"*\"]
opt-level = 2
debug = false

# Components are built with this profile for wasm32-wasip2: keep them small (every host
# that installs the connector loads and compiles it).
[profile.release]
opt-level = \"s\"
lto = true
codegen-units = 1
strip = true
";
    let crate_name = name.replace('-', "_");
    let path_dependencies = |sdk: &SdkPaths| {
        (
            format!(
                "tovor-sdk = {{ path = {} }}\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n\
                 serde_json = \"1\"",
                toml_string(&sdk.sdk.to_string_lossy())
            ),
            format!(
                "tovor-harness = {{ path = {} }}\n\
                 tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\
                 anyhow = \"1\"",
                toml_string(&sdk.harness.to_string_lossy())
            ),
        )
    };
    let explicit_package = "version = \"0.1.0\"\nedition = \"2024\"".to_owned();
    let (package_fields, dependencies, dev_dependencies, tail, root) = match layout {
        Layout::TovorWorkspace {
            root,
            inherited,
            lints,
        } => (
            inherited
                .iter()
                .map(|key| format!("{key}.workspace = true"))
                .collect::<Vec<_>>()
                .join("\n"),
            "tovor-sdk.workspace = true\n\
             serde.workspace = true\n\
             serde_json.workspace = true"
                .to_owned(),
            "tovor-harness.workspace = true\n\
             tokio.workspace = true\n\
             anyhow.workspace = true"
                .to_owned(),
            if *lints {
                "\n[lints]\nworkspace = true\n".to_owned()
            } else {
                String::new()
            },
            Some(root),
        ),
        Layout::OtherWorkspace { root, sdk } => {
            let (dependencies, dev_dependencies) = path_dependencies(sdk);
            (
                explicit_package,
                dependencies,
                dev_dependencies,
                String::new(),
                Some(root),
            )
        }
        Layout::Standalone { sdk } => {
            let (dependencies, dev_dependencies) = path_dependencies(sdk);
            (
                explicit_package,
                dependencies,
                dev_dependencies,
                format!("\n{PROFILES}"),
                None,
            )
        }
    };
    // Where cargo puts the component, from the crate's folder.
    let target_dir = match root.and_then(|root| target.strip_prefix(root).ok()) {
        Some(inside) => {
            let mut up = "../".repeat(inside.components().count());
            up.push_str("target");
            up
        }
        None => "target".to_owned(),
    };
    vec![
        ("name", name.to_owned()),
        ("crate_name", crate_name.clone()),
        ("platform", platform_name(name)),
        ("type_name", type_name(name)),
        ("package_fields", package_fields),
        ("dependencies", dependencies),
        ("dev_dependencies", dev_dependencies),
        ("tail", tail),
        (
            "wasm_path",
            format!("{target_dir}/wasm32-wasip2/release/{crate_name}.wasm"),
        ),
    ]
}

/// Every file of the new crate of `kind`, rendered, with the manifest checked the way
/// the host checks it.
fn render_all(
    kind: TemplateKind,
    name: &str,
    target: &Path,
    layout: &Layout,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let values = values(name, target, layout);
    let files: Vec<(&'static str, String)> = kind
        .files()
        .iter()
        .map(|file| (file.path, render(file.text, &values)))
        .collect();
    for (path, text) in &files {
        if *path == "plugin.toml" {
            tovor_manifest::Manifest::parse(text)
                .with_context(|| format!("{name:?} does not make a valid plugin.toml"))?;
        }
    }
    Ok(files)
}

fn write_all(target: &Path, files: &[(&'static str, String)]) -> anyhow::Result<()> {
    for (path, text) in files {
        let path = target.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_must_be_plugin_ids_and_crate_names() {
        for good in ["demo-shop", "shop2", "a", "my-big-shop"] {
            check_name(good).unwrap();
        }
        for bad in [
            "",
            "Demo",
            "demo_shop",
            "-shop",
            "shop-",
            "a--b",
            "2shop",
            "demo shop",
            "šop",
            "tovor-sdk",
            "test",
            &"a".repeat(64),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let message = check_name("Demo").unwrap_err().to_string();
        assert!(message.contains("not a valid plugin id"), "{message}");
    }

    #[test]
    fn names_become_titles_and_types() {
        assert_eq!(platform_name("demo-shop"), "Demo Shop");
        assert_eq!(type_name("demo-shop"), "DemoShop");
        assert_eq!(type_name("shop2go"), "Shop2go");
    }

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(
            render(
                "id = \"{{name}}\" {x} {{name}}/{{other}}",
                &[("name", "demo".into())]
            ),
            "id = \"demo\" {x} demo/{{other}}"
        );
    }

    #[test]
    fn member_globs() {
        let path = |text: &str| -> Vec<String> { text.split('/').map(str::to_owned).collect() };
        assert!(glob_matches("plugins/*", &path("plugins/demo")));
        assert!(glob_matches("host/cli", &path("host/cli")));
        assert!(glob_matches(
            "tests/plugins/*",
            &path("tests/plugins/probe")
        ));
        assert!(glob_matches("plug*/d?mo", &path("plugins/demo")));
        assert!(!glob_matches("plugins/*", &path("plugins/demo/sub")));
        assert!(!glob_matches("plugins/*", &path("target/demo")));
    }

    fn workspace(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn membership_follows_members_and_exclude() {
        let manifest =
            workspace("[workspace]\nmembers = [\"plugins/*\"]\nexclude = [\"plugins/old\"]\n");
        let root = Path::new("/ws");
        assert!(is_member(&manifest, root, Path::new("/ws/plugins/demo")));
        assert!(!is_member(&manifest, root, Path::new("/ws/plugins/old")));
        assert!(!is_member(&manifest, root, Path::new("/ws/target/x/demo")));
        assert!(!is_member(&manifest, root, Path::new("/elsewhere/demo")));
    }

    /// The tovor workspace itself: `plugins/NAME` inherits, `target/...` stands alone.
    #[test]
    fn layouts_in_the_tovor_checkout() {
        let root = PathBuf::from(CHECKOUT).canonicalize().unwrap();
        assert_eq!(
            layout_for(&root.join("plugins/brand-new"), None).unwrap(),
            Layout::TovorWorkspace {
                root: root.clone(),
                inherited: vec!["version", "edition", "rust-version", "license"],
                lints: true,
            }
        );
        let Layout::Standalone { sdk } =
            layout_for(&root.join("target/scaffold-x/brand-new"), None).unwrap()
        else {
            panic!("not standalone");
        };
        assert_eq!(sdk.sdk, root.join("sdk"));
        assert_eq!(sdk.harness, root.join("sdk/harness"));
        // --sdk-path takes the checkout or its sdk folder.
        assert_eq!(find_sdk(Some(&root)).unwrap(), sdk);
        assert_eq!(find_sdk(Some(&root.join("sdk"))).unwrap(), sdk);
        assert!(find_sdk(Some(&root.join("host"))).is_err());
    }

    #[test]
    fn workspace_files_inherit_and_standalone_files_do_not() {
        let root = PathBuf::from(CHECKOUT).canonicalize().unwrap();
        let in_workspace = render_all(
            TemplateKind::Shop,
            "demo-shop",
            &root.join("plugins/demo-shop"),
            &layout_for(&root.join("plugins/demo-shop"), None).unwrap(),
        )
        .unwrap();
        let cargo = &in_workspace[0].1;
        assert!(cargo.contains("tovor-sdk.workspace = true"), "{cargo}");
        assert!(cargo.contains("edition.workspace = true"), "{cargo}");
        assert!(cargo.contains("[lints]\nworkspace = true"), "{cargo}");
        assert!(!cargo.contains("[workspace]\n"), "{cargo}");
        let readme = &in_workspace.iter().find(|f| f.0 == "README.md").unwrap().1;
        assert!(
            readme.contains("../../target/wasm32-wasip2/release/demo_shop.wasm"),
            "{readme}"
        );

        let sdk = find_sdk(None).unwrap();
        let standalone = render_all(
            TemplateKind::Shop,
            "demo-shop",
            Path::new("/somewhere/demo-shop"),
            &Layout::Standalone { sdk: sdk.clone() },
        )
        .unwrap();
        let cargo = &standalone[0].1;
        let parsed: toml::Table = cargo.parse().unwrap();
        assert_eq!(
            parsed["dependencies"]["tovor-sdk"]["path"].as_str(),
            Some(sdk.sdk.to_string_lossy().as_ref())
        );
        assert!(parsed.contains_key("workspace"), "{cargo}");
        assert_eq!(
            parsed["lib"]["crate-type"].as_array().unwrap(),
            &vec![toml::Value::from("cdylib")]
        );

        for (path, text) in standalone.iter().chain(&in_workspace) {
            assert!(
                !text.contains("{{"),
                "{path}: a placeholder is left:\n{text}"
            );
        }
        let lib = &standalone.iter().find(|f| f.0 == "src/lib.rs").unwrap().1;
        assert!(lib.contains("impl Orders for DemoShop"));
        assert!(lib.contains("tovor_sdk::export_shop!(DemoShop: orders, webhooks, connection);"));
    }

    #[test]
    fn refuses_a_folder_that_is_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken/file"), "x").unwrap();
        let error = run(NewArgs {
            name: "taken".into(),
            dir: dir.path().to_owned(),
            kind: TemplateKind::Shop,
            sdk_path: None,
        })
        .unwrap_err();
        assert!(error.to_string().contains("not empty"), "{error}");
    }

    #[test]
    fn writes_a_standalone_crate() {
        let dir = tempfile::tempdir().unwrap();
        run(NewArgs {
            name: "demo-shop".into(),
            dir: dir.path().to_owned(),
            kind: TemplateKind::Shop,
            sdk_path: None,
        })
        .unwrap();
        let crate_dir = dir.path().join("demo-shop");
        for file in [
            "Cargo.toml",
            "plugin.toml",
            "src/lib.rs",
            "tests/harness.rs",
            "fixtures/order.json",
            "README.md",
        ] {
            assert!(crate_dir.join(file).is_file(), "{file}");
        }
        let manifest = tovor_manifest::Manifest::from_file(crate_dir.join("plugin.toml")).unwrap();
        assert_eq!(manifest.plugin.id, "demo-shop");
        assert_eq!(manifest.plugin.kind, tovor_manifest::Kind::Shop);
        assert!(manifest.field("shop_url").unwrap().required);
        assert!(manifest.field("api_token").unwrap().secret);
        let order: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate_dir.join("fixtures/order.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(order["id"], 1001);
    }

    #[test]
    fn carrier_files_render_in_both_layouts() {
        let root = PathBuf::from(CHECKOUT).canonicalize().unwrap();
        let in_workspace = render_all(
            TemplateKind::Carrier,
            "demo-carrier",
            &root.join("plugins/demo-carrier"),
            &layout_for(&root.join("plugins/demo-carrier"), None).unwrap(),
        )
        .unwrap();
        let standalone = render_all(
            TemplateKind::Carrier,
            "demo-carrier",
            Path::new("/somewhere/demo-carrier"),
            &Layout::Standalone {
                sdk: find_sdk(None).unwrap(),
            },
        )
        .unwrap();
        let paths: Vec<&str> = standalone.iter().map(|file| file.0).collect();
        assert_eq!(
            paths,
            [
                "Cargo.toml",
                "plugin.toml",
                "src/lib.rs",
                "tests/harness.rs",
                "fixtures/shipment.json",
                "fixtures/tracking.json",
                "README.md"
            ]
        );
        for (path, text) in standalone.iter().chain(&in_workspace) {
            assert!(
                !text.contains("{{"),
                "{path}: a placeholder is left:\n{text}"
            );
        }
        let file = |files: &[(&str, String)], path: &str| {
            files.iter().find(|f| f.0 == path).unwrap().1.clone()
        };
        let cargo = file(&in_workspace, "Cargo.toml");
        assert!(cargo.contains("tovor-sdk.workspace = true"), "{cargo}");
        assert!(
            cargo.contains("A tovor carrier connector for Demo Carrier"),
            "{cargo}"
        );
        let parsed: toml::Table = file(&standalone, "Cargo.toml").parse().unwrap();
        assert!(parsed.contains_key("workspace"));

        let manifest = tovor_manifest::Manifest::parse(&file(&standalone, "plugin.toml")).unwrap();
        assert_eq!(manifest.plugin.id, "demo-carrier");
        assert_eq!(manifest.plugin.name, "Demo Carrier");
        assert_eq!(manifest.plugin.kind, tovor_manifest::Kind::Carrier);
        assert!(manifest.field("api_key").unwrap().secret);
        assert!(manifest.field("customer_number").unwrap().required);
        assert!(
            manifest
                .egress
                .allow
                .contains(&"https://api.demo-carrier.example".to_owned()),
            "{:?}",
            manifest.egress.allow
        );

        let lib = file(&standalone, "src/lib.rs");
        assert!(lib.contains("impl Shipments for DemoCarrier"));
        assert!(lib.contains("const DEFAULT_API: &str = \"https://api.demo-carrier.example/v1\";"));
        assert!(lib.contains(
            "tovor_sdk::export_carrier!(\n    DemoCarrier: shipments, labels, tracking, \
             cancellation, lookup, pickup_points, connection\n);"
        ));
        let harness = file(&standalone, "tests/harness.rs");
        assert!(harness.contains("assert_eq!(plugin.manifest.plugin.name, \"Demo Carrier\");"));
        let readme = file(&in_workspace, "README.md");
        assert!(
            readme.contains("../../target/wasm32-wasip2/release/demo_carrier.wasm"),
            "{readme}"
        );
        for fixture in ["fixtures/shipment.json", "fixtures/tracking.json"] {
            serde_json::from_str::<serde_json::Value>(&file(&standalone, fixture)).unwrap();
        }
    }

    #[test]
    fn writes_a_standalone_carrier_crate() {
        let dir = tempfile::tempdir().unwrap();
        run(NewArgs {
            name: "demo-carrier".into(),
            dir: dir.path().to_owned(),
            kind: TemplateKind::Carrier,
            sdk_path: None,
        })
        .unwrap();
        let crate_dir = dir.path().join("demo-carrier");
        for file in CARRIER_TEMPLATE {
            assert!(crate_dir.join(file.path).is_file(), "{}", file.path);
        }
        let manifest = tovor_manifest::Manifest::from_file(crate_dir.join("plugin.toml")).unwrap();
        assert_eq!(manifest.plugin.kind, tovor_manifest::Kind::Carrier);
        let tracking: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate_dir.join("fixtures/tracking.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(tracking["tracking_number"], "40010000042");
    }

    #[test]
    fn kinds_name_their_guides() {
        assert!(guide(TemplateKind::Carrier).ends_with("docs/writing-a-carrier-connector.md"));
        assert!(guide(TemplateKind::Shop).ends_with("docs/writing-a-connector.md"));
    }
}
