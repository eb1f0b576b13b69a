//! Who may do what: roles allow actions on models matched by name or
//! glob; a principal holds roles. Nothing is allowed that no role allows.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Run a model.
    Infer,
    /// Read a model's metadata and readiness.
    Metadata,
    /// Read `/metrics` and the gateway's own state.
    Admin,
    /// Read the registry (list, show, lineage, history, resolve, verify).
    RegistryRead,
    /// Move an alias forward.
    Promote,
    /// Move an alias back.
    Rollback,
    /// Deprecate a version.
    Deprecate,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Infer => "infer",
            Action::Metadata => "metadata",
            Action::Admin => "admin",
            Action::RegistryRead => "registry-read",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::Deprecate => "deprecate",
        }
    }
}

/// One role: its actions on the models its patterns match.
#[derive(Debug, Clone)]
pub struct Role {
    actions: Vec<Action>,
    models: GlobSet,
    patterns: Vec<String>,
}

impl Role {
    pub fn new(name: &str, actions: &[Action], patterns: &[String]) -> Result<Role, String> {
        if patterns.is_empty() {
            return Err(format!(
                "[serve.roles.{name}]: list the models it applies to (`models = [\"*\"]` for all)"
            ));
        }
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let g = Glob::new(p)
                .map_err(|e| format!("[serve.roles.{name}] model pattern {p:?}: {e}"))?;
            b.add(g);
        }
        let models = b
            .build()
            .map_err(|e| format!("[serve.roles.{name}]: {e}"))?;
        Ok(Role {
            actions: actions.to_vec(),
            models,
            patterns: patterns.to_vec(),
        })
    }

    /// The model patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a pattern matches `model`.
    pub fn covers(&self, model: &str) -> bool {
        self.models.is_match(model)
    }

    /// Whether it grants `action` on any model.
    pub fn grants(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }

    pub fn allows(&self, action: Action, model: &str) -> bool {
        self.actions.contains(&action) && self.models.is_match(model)
    }
}

/// An authenticated caller: `kind:name` and the roles it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `key:ci-bot`, `jwt:alice`, `cert:scorer.internal`.
    pub id: String,
    pub roles: Vec<String>,
}

impl Principal {
    /// Whether any of its roles (those its credential carries and those
    /// `[serve.principals]` gives its id) allows `action` on `model`.
    pub fn may(
        &self,
        roles: &BTreeMap<String, Role>,
        extra: &BTreeMap<String, Vec<String>>,
        action: Action,
        model: &str,
    ) -> bool {
        self.held(roles, extra).any(|r| r.allows(action, model))
    }

    /// Its roles: those its credential carries and those
    /// `[serve.principals]` gives its id.
    fn held<'a>(
        &'a self,
        roles: &'a BTreeMap<String, Role>,
        extra: &'a BTreeMap<String, Vec<String>>,
    ) -> impl Iterator<Item = &'a Role> {
        self.roles
            .iter()
            .chain(extra.get(&self.id).into_iter().flatten())
            .filter_map(|r| roles.get(r))
    }

    /// Whether any of its roles grants any of `actions`, on any model:
    /// a caller with none is refused before its request is read.
    pub fn may_any(
        &self,
        roles: &BTreeMap<String, Role>,
        extra: &BTreeMap<String, Vec<String>>,
        actions: &[Action],
    ) -> bool {
        self.held(roles, extra)
            .any(|r| actions.iter().any(|a| r.grants(*a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> BTreeMap<String, Role> {
        let mut m = BTreeMap::new();
        m.insert(
            "scorer".to_string(),
            Role::new(
                "scorer",
                &[Action::Infer],
                &["fraud".into(), "credit-*".into()],
            )
            .unwrap(),
        );
        m.insert(
            "ops".to_string(),
            Role::new("ops", &[Action::Promote, Action::Metadata], &["*".into()]).unwrap(),
        );
        m
    }

    #[test]
    fn may_any_asks_for_any_action_on_any_model() {
        let p = |roles: &[&str]| Principal {
            id: "key:x".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        let none = BTreeMap::new();
        let registry = [Action::RegistryRead, Action::Promote];
        assert!(!p(&["scorer"]).may_any(&roles(), &none, &registry));
        assert!(p(&["scorer", "ops"]).may_any(&roles(), &none, &registry));
        assert!(!p(&["ghost"]).may_any(&roles(), &none, &registry));
    }

    #[test]
    fn roles_allow_only_their_actions_on_their_models() {
        let p = Principal {
            id: "key:bot".into(),
            roles: vec!["scorer".into()],
        };
        let none = BTreeMap::new();
        assert!(p.may(&roles(), &none, Action::Infer, "fraud"));
        assert!(p.may(&roles(), &none, Action::Infer, "credit-eu"));
        assert!(!p.may(&roles(), &none, Action::Infer, "fraudster"));
        assert!(!p.may(&roles(), &none, Action::Metadata, "fraud"));
        assert!(!p.may(&roles(), &none, Action::Promote, "fraud"));
    }

    #[test]
    fn principals_gain_roles_from_the_policy_and_unknown_roles_give_nothing() {
        let p = Principal {
            id: "jwt:alice".into(),
            roles: vec!["no-such-role".into()],
        };
        let mut extra = BTreeMap::new();
        assert!(!p.may(&roles(), &extra, Action::Promote, "fraud"));
        extra.insert("jwt:alice".to_string(), vec!["ops".to_string()]);
        assert!(p.may(&roles(), &extra, Action::Promote, "fraud"));
    }

    #[test]
    fn a_role_without_models_is_refused() {
        assert!(Role::new("r", &[Action::Infer], &[]).is_err());
    }
}
