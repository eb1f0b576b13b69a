//! Tables: a column's name says what its values are likely to be
//! (`email`, `dob`, `passport_no`), and the share of its values that hold
//! each entity says what they are. [`scan_cell`] uses the name as context;
//! [`Columns`] tallies the shares and lists the columns that hold
//! personal data, with masked examples.

use crate::{scan, validate, Match};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Column-name words and the entity a column so named holds: a value
/// under such a column is that entity when it has its shape.
pub(crate) const NAME_HINTS: &[(&[&str], &str)] = &[
    (&["email", "e_mail", "mail"], "EMAIL_ADDRESS"),
    (
        &["phone", "tel", "mobile", "cell", "fax", "msisdn"],
        "PHONE_NUMBER",
    ),
    (
        &["dob", "birth", "birthdate", "birthday", "geburtsdatum"],
        "DATE_OF_BIRTH",
    ),
    (&["ssn", "social_security"], "US_SSN"),
    (&["passport"], "PASSPORT"),
    (&["licence", "license", "dl_number"], "DRIVER_LICENSE"),
    (
        &["card", "cc", "pan", "card_number", "ccnum"],
        "CREDIT_CARD",
    ),
    (&["iban"], "IBAN_CODE"),
    (&["address", "street", "addr"], "STREET_ADDRESS"),
    (&["ip", "ip_address", "ipv4", "ipv6"], "IP_ADDRESS"),
    (
        &[
            "name",
            "first",
            "last",
            "surname",
            "firstname",
            "lastname",
            "fullname",
            "forename",
        ],
        "PERSON",
    ),
    (&["zip", "postcode", "postal", "zipcode", "plz"], "POSTCODE"),
];

/// What a column's name suggests, by the words in it.
pub fn name_hint(column: &str) -> Option<&'static str> {
    let c = column.to_lowercase().replace(['-', ' ', '.'], "_");
    let has = |words: &[&str]| {
        words
            .iter()
            .any(|w| c.split('_').any(|p| p == *w) || c.contains(w) && w.len() > 4)
    };
    let hints = NAME_HINTS;
    // "company_name", "product_name", "city_name": the name of a thing.
    let things = [
        "company",
        "product",
        "city",
        "country",
        "state",
        "region",
        "brand",
        "model",
        "file",
        "host",
        "server",
        "street",
        "org",
        "organisation",
        "organization",
        "business",
        "store",
        "shop",
        "item",
        "table",
        "column",
        "field",
        "dataset",
        "project",
        "app",
        "service",
        "domain",
        "team",
        "group",
        "department",
        "dept",
        "category",
        "bank",
        "hotel",
        "venue",
        "place",
        "location",
        "site",
        "event",
        "feature",
        "package",
        "library",
        "class",
        "type",
        "tag",
        "label",
        "key",
        "queue",
        "topic",
        "job",
        "task",
        "pipeline",
        "vendor",
        "supplier",
        "merchant",
        "account_type",
        "plan",
        "tier",
        "school",
        "university",
        "hospital",
    ];
    let thing = things.iter().any(|t| c.split('_').any(|p| p == *t));
    hints
        .iter()
        .find(|(words, _)| has(words))
        .map(|&(_, e)| e)
        .filter(|e| !(*e == "PERSON" && thing))
}

/// Entities in one table value, with the column name as context. A value
/// that is nothing but a date, a document number or a capitalised name
/// counts as that entity when its column's name says so ("dob",
/// "passport", "first_name"): alone, such values are too common to report.
pub fn scan_cell(value: &str, column: &str, threshold: f32) -> Vec<Match> {
    let mut found = scan(value, Some(column), threshold);
    if let Some(entity) = name_hint(column).and_then(|hint| shaped(hint, value.trim())) {
        if !found.iter().any(|m| m.entity == entity) {
            // The column's name wins over a guess from the shape alone
            // (nine digits under `ssn` are an SSN, not a phone number).
            let start = value.len() - value.trim_start().len();
            let end = start + value.trim().len();
            found.retain(|m| m.start > start || m.end < end);
            found.push(Match {
                entity,
                start,
                end,
                score: 0.8,
                detail: Some("column name"),
            });
        }
    }
    found.retain(|m| m.score >= threshold);
    crate::own::drop_own(value, &mut found);
    found
}

/// Whether a whole value has the shape of the entity its column names.
fn shaped(hint: &'static str, v: &str) -> Option<&'static str> {
    let ok = match hint {
        "DATE_OF_BIRTH" => validate::birth_date(v),
        "PASSPORT" | "DRIVER_LICENSE" => {
            (5..=20).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ')
                && v.bytes().any(|b| b.is_ascii_digit())
        }
        "PERSON" => {
            let words: Vec<&str> = v.split_whitespace().collect();
            (1..=4).contains(&words.len())
                && words.iter().all(|w| {
                    let mut c = w.chars();
                    c.next().is_some_and(char::is_uppercase)
                        && c.all(|c| c.is_alphabetic() || "'-.’".contains(c))
                })
        }
        "POSTCODE" => (3..=10).contains(&v.len()) && v.bytes().any(|b| b.is_ascii_digit()),
        // Nine digits alone are too common to report (an SSN written
        // without dashes), except in a column named for SSNs.
        "US_SSN" => {
            return validate::ssn_or_itin(v).filter(|_| {
                v.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b' ')
            })
        }
        _ => false,
    };
    ok.then_some(hint)
}

/// All but the last characters replaced with `*` (separators kept), for
/// showing an example without showing the value: a third of them stay,
/// never more than four (so `Bob` shows as `**b`, a card as its last four).
pub fn mask_example(v: &str) -> String {
    let keep = (v.chars().count() / 3).min(4);
    mask_example_keep(v, keep)
}

/// All but the last `keep` characters replaced with `*`, separators kept.
pub fn mask_example_keep(v: &str, keep: usize) -> String {
    let n = v.chars().count();
    v.chars()
        .enumerate()
        .map(|(i, c)| {
            if i + keep < n && !c.is_whitespace() && c != '-' {
                '*'
            } else {
                c
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    values: u64,
    entities: BTreeMap<&'static str, (u64, Vec<String>)>,
}

/// Per-column counts of values holding each entity.
#[derive(Default)]
pub struct Columns {
    order: Vec<String>,
    tallies: HashMap<String, Tally>,
}

/// A column that holds personal data.
#[derive(Debug, Serialize)]
pub struct PiiColumn {
    pub column: String,
    pub entity: &'static str,
    /// Values holding the entity, of the column's non-empty values.
    pub share: f64,
    pub values: u64,
    /// Whether the column's name suggests the entity.
    pub name_hint: bool,
    /// Up to three values, masked.
    pub examples: Vec<String>,
}

/// Columns are reported when at least this share of their values hold an
/// entity (or, with a name that suggests it, any value does).
pub const MIN_SHARE: f64 = 0.1;

/// Most distinct columns tallied (JSON paths can be many).
const MAX_COLUMNS: usize = 10_000;

impl Columns {
    /// Records one value of `column` and the entities found in it.
    pub fn observe(&mut self, column: &str, value: &str, found: &[Match]) {
        if value.trim().is_empty() {
            return;
        }
        if !self.tallies.contains_key(column) {
            if self.tallies.len() >= MAX_COLUMNS {
                return;
            }
            self.order.push(column.to_string());
        }
        let tally = self.tallies.entry(column.to_string()).or_default();
        tally.values += 1;
        let mut seen: Vec<&'static str> = Vec::new();
        for m in found {
            if seen.contains(&m.entity) {
                continue;
            }
            seen.push(m.entity);
            let (count, examples) = tally.entities.entry(m.entity).or_default();
            *count += 1;
            if examples.len() < 3 {
                examples.push(mask_example(value.get(m.start..m.end).unwrap_or("")));
            }
        }
    }

    /// The columns holding personal data, in column order; for each, every
    /// entity it holds (most frequent first) in at least [`MIN_SHARE`] of
    /// its values, or in any when its name suggests that entity. A notes
    /// column with phone numbers and SSNs is listed under both.
    pub fn report(&self) -> Vec<PiiColumn> {
        let mut out = Vec::new();
        for name in &self.order {
            let Some(t) = self.tallies.get(name) else {
                continue;
            };
            let hint = name_hint(name);
            let mut held: Vec<(&&'static str, &(u64, Vec<String>))> = t.entities.iter().collect();
            held.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (&entity, (n, examples)) in held {
                let share = *n as f64 / t.values.max(1) as f64;
                let hinted = hint == Some(entity);
                if share >= MIN_SHARE || hinted {
                    out.push(PiiColumn {
                        column: name.clone(),
                        entity,
                        share,
                        values: t.values,
                        name_hint: hinted,
                        examples: examples.clone(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_values_and_shares() {
        assert_eq!(name_hint("customer_email"), Some("EMAIL_ADDRESS"));
        assert_eq!(name_hint("DOB"), Some("DATE_OF_BIRTH"));
        assert_eq!(name_hint("first_name"), Some("PERSON"));
        assert_eq!(name_hint("amount"), None);
        // The name of a thing is not a person's.
        for thing in [
            "company_name",
            "product_name",
            "city_name",
            "model-name",
            "hostName",
        ] {
            assert_eq!(name_hint(thing), None, "{thing}");
        }
        assert_eq!(name_hint("customer_name"), Some("PERSON"));
        assert!(scan_cell("Siemens AG", "company_name", 0.5).is_empty());
        // A bare date is a date of birth only in a column that says so.
        assert!(scan_cell("1985-03-12", "created", 0.5).is_empty());
        assert_eq!(
            scan_cell("1985-03-12", "dob", 0.5)[0].entity,
            "DATE_OF_BIRTH"
        );
        assert_eq!(scan_cell("Zoé", "first_name", 0.5)[0].entity, "PERSON");
        // SSNs without dashes, only under a column named for them.
        assert_eq!(scan_cell("078051120", "ssn", 0.5)[0].entity, "US_SSN");
        assert_eq!(scan_cell("912701234", "SSN", 0.5)[0].entity, "US_ITIN");
        let ssn = |v: &str, c: &str| scan_cell(v, c, 0.5).iter().any(|m| m.entity == "US_SSN");
        assert!(!ssn("078051120", "order_id"));
        assert!(!ssn("000051120", "ssn"));
        let mut c = Columns::default();
        for (i, v) in ["a@example.com", "b@example.org", "", "n/a"]
            .iter()
            .enumerate()
        {
            c.observe("contact", v, &scan_cell(v, "contact", 0.5));
            c.observe("id", &i.to_string(), &[]);
        }
        // Every entity a column holds is listed, most frequent first.
        for v in [
            "call 415 555 0958",
            "SSN 078-05-1120",
            "call 212 555 0199",
            "ok",
        ] {
            c.observe("notes", v, &scan_cell(v, "notes", 0.5));
        }
        let r = c.report();
        let notes: Vec<&str> = r
            .iter()
            .filter(|p| p.column == "notes")
            .map(|p| p.entity)
            .collect();
        assert_eq!(notes, ["PHONE_NUMBER", "US_SSN"]);
        let r: Vec<&PiiColumn> = r.iter().filter(|p| p.column != "notes").collect();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].column.as_str(), r[0].entity),
            ("contact", "EMAIL_ADDRESS")
        );
        assert!((r[0].share - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(r[0].examples[0], "*********.com");
        assert_eq!(mask_example("Bob"), "**b");
        assert_eq!(mask_example("Jo"), "**");
    }
}
