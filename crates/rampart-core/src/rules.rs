use crate::Severity;
use serde::Serialize;

/// A rule: documented once, emitted by one check under a stable id.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `PICKLE-EXEC`. Never reused for another meaning.
    pub id: &'static str,
    /// Short name in the words of the problem.
    pub name: &'static str,
    pub default_severity: Severity,
    /// One line: what was found.
    pub summary: &'static str,
    /// Why it matters, in a paragraph.
    pub description: &'static str,
    /// What the user should do about it.
    pub fix: &'static str,
    /// OWASP ML Top 10, MITRE ATLAS, CVEs, specifications.
    pub references: &'static [&'static str],
}

/// Every rule known to the binary, gathered from each check's list.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    rules: Vec<Rule>,
}

impl Catalog {
    pub fn new(lists: &[&'static [Rule]]) -> Self {
        let mut rules: Vec<Rule> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        rules.sort_by_key(|r| r.id);
        Catalog { rules }
    }

    pub fn all(&self) -> &[Rule] {
        &self.rules
    }

    /// Looks a rule up by id, ignoring ASCII case.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// The rule `id`, or an error that suggests close ids (or how to list
    /// every rule).
    pub fn lookup(&self, id: &str) -> Result<&Rule, String> {
        if let Some(r) = self.get(id) {
            return Ok(r);
        }
        let similar = self.similar(id);
        Err(if similar.is_empty() {
            format!("no rule `{id}`; run `rampart rules` to list every rule")
        } else {
            format!("no rule `{id}`; did you mean {}?", similar.join(", "))
        })
    }

    /// Ids that are close to `id`, to suggest when a lookup fails.
    pub fn similar(&self, id: &str) -> Vec<&'static str> {
        let want = id.to_ascii_uppercase();
        self.rules
            .iter()
            .filter(|r| {
                let prefix = want.split('-').next().unwrap_or("");
                r.id.contains(&want) || (!prefix.is_empty() && r.id.starts_with(prefix))
            })
            .map(|r| r.id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[Rule] = &[Rule {
        id: "PICKLE-EXEC",
        name: "n",
        default_severity: Severity::Critical,
        summary: "s",
        description: "d",
        fix: "f",
        references: &[],
    }];

    #[test]
    fn lookup_ignores_case_and_suggests() {
        let c = Catalog::new(&[A]);
        assert!(c.get("pickle-exec").is_some());
        assert!(c.get("PICKLE-NOPE").is_none());
        assert_eq!(c.similar("PICKLE-NOPE"), vec!["PICKLE-EXEC"]);
    }
}
