//! Validates rendered SARIF against the official OASIS SARIF 2.1.0 schema
//! (vendored by tools/vendor-sarif-schema.sh).

#![cfg(test)]

use rampart_core::{render, Catalog, Finding, Location, Report, Rule, Severity};

const RULES: &[Rule] = &[Rule {
    id: "PICKLE-EXEC",
    name: "code execution",
    default_severity: Severity::Critical,
    summary: "imports a code-execution global",
    description: "d",
    fix: "f",
    references: &["https://owasp.org/www-project-machine-learning-security-top-10/"],
}];

fn validate(text: &str) -> Result<(), String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let instance: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler
        .add_resource("file:///sarif-schema-2.1.0.json", schema)
        .unwrap();
    let idx = compiler
        .compile("file:///sarif-schema-2.1.0.json", &mut schemas)
        .unwrap();
    schemas
        .validate(&instance, idx)
        .map_err(|e| format!("{e:#}"))
}

fn report() -> Report {
    let mut r = Report::new("scan");
    r.inputs.push("models".into());
    r.findings.push(
        Finding::new(
            "PICKLE-EXEC",
            Severity::Critical,
            Location {
                path: "models/my model.pt".into(),
                members: vec!["archive/data.pkl".into()],
                offset: Some(12),
            },
            "calls os.system",
        )
        .with("global", "os.system"),
    );
    r.findings.push(Finding::new(
        "SCAN-UNKNOWN-FORMAT",
        Severity::Info,
        Location {
            path: "models/readme".into(),
            members: vec![],
            offset: Some(0),
        },
        "not a known format",
    ));
    r
}

#[test]
fn sarif_output_is_valid_2_1_0() {
    let text = render::sarif(&report(), &Catalog::new(&[RULES]));
    validate(&text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["level"], "error");
    assert_eq!(v["runs"][0]["results"][1]["level"], "note");
}

#[test]
fn empty_report_is_valid() {
    validate(&render::sarif(&Report::new("scan"), &Catalog::default())).unwrap();
}

#[test]
fn validator_rejects_broken_sarif() {
    // The check is only worth something if it can fail.
    let text = render::sarif(&report(), &Catalog::new(&[RULES]));
    let broken = text.replace("\"level\": \"error\"", "\"level\": \"fatal\"");
    assert!(validate(&broken).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("version");
    assert!(validate(&v.to_string()).is_err());
}

#[test]
fn unreadable_inputs_are_tool_notifications() {
    let mut r = report();
    r.errors
        .push("cannot read models/x.pt: permission denied".into());
    let text = render::sarif(&r, &Catalog::new(&[RULES]));
    validate(&text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(inv["toolExecutionNotifications"][0]["level"], "error");
}
