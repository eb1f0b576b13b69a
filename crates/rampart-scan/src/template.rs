//! Server-side template injection in Jinja templates shipped with models
//! (GGUF `tokenizer.chat_template`, `tokenizer_config.json`).
//!
//! Loaders render chat templates with Jinja2; when the environment is not
//! sandboxed (llama-cpp-python before 0.2.72, CVE-2024-34359) a template
//! reaches Python objects through dunder attributes and runs commands.
//! The template is parsed with minijinja's parser, and the AST is walked:
//! attribute names, subscripts and `attr` filter arguments are folded to
//! constants where they are built from literals (`'__cla' + 'ss__'`,
//! `'_' * 2`, `|join`, `|reverse`, `{% set %}` variables), so obfuscated
//! spellings are caught like plain ones. What the parser rejects is still
//! checked token by token, and reported as not parsed.

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::{parse, tokenize, Span, Token};
use minijinja::syntax::SyntaxConfig;
use rampart_core::{Finding, Location, Severity};
use std::collections::HashMap;

use crate::rules::{TEMPLATE_DYNAMIC_ATTR, TEMPLATE_INJECTION, TEMPLATE_LOAD, TEMPLATE_UNPARSED};

/// Longest template kept for analysis. Chat templates are a few KiB; this
/// bounds memory, not analysis: a template is parsed whatever its size up
/// to here, in bounded time ([`MAX_SECONDS`]), and one that is longer or
/// does not finish is reported at high, never passed.
pub const MAX_TEMPLATE: usize = 16 << 20;
/// Longest analysis of one template.
const MAX_SECONDS: u64 = 20;
/// Longest string built by constant folding.
const MAX_FOLD: usize = 4096;
/// Deepest expression walked; deeper nesting is itself suspicious.
const MAX_DEPTH: u32 = 2000;
/// Most issues reported per template.
const MAX_ISSUES: usize = 50;

/// One problem in a template, with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub line: u32,
    pub col: u32,
}

/// Attribute names that lead from any object to Python internals or run
/// code; a chat template has no reason to name them.
const GADGETS: &[&str] = &[
    "popen",
    "system",
    "eval",
    "exec",
    "subprocess",
    "import_module",
    "getattr",
    "setattr",
    "globals",
    "locals",
    "compile",
    "environ",
    "func_globals",
    "f_globals",
    "f_locals",
    "f_back",
    "gi_frame",
    "cr_frame",
    "tb_frame",
    "co_code",
    "mro",
];

/// Filters whose `attribute=` argument (or first argument) is an
/// attribute name looked up on each item.
const ATTRIBUTE_FILTERS: &[&str] = &[
    "map",
    "selectattr",
    "rejectattr",
    "sort",
    "groupby",
    "sum",
    "unique",
    "min",
    "max",
];

/// Analyses a template. Parsing runs on a thread with a large stack: the
/// parser bounds nesting, but left-leaning operator chains (`a+a+a...`)
/// are deep trees whose walk and drop recurse.
pub fn analyse(source: &str) -> Vec<Issue> {
    let unanalysed = |message: String| Issue {
        rule: TEMPLATE_UNPARSED,
        severity: Severity::High,
        message,
        line: 1,
        col: 1,
    };
    if source.len() > MAX_TEMPLATE {
        // Not parsed: still searched for what reaches Python internals.
        let mut a = Analyser::default();
        a.raw(source);
        a.issues.push(unanalysed(format!(
            "template of {} bytes is over the {MAX_TEMPLATE}-byte limit; only searched for dunder names",
            source.len()
        )));
        return a.issues;
    }
    let owned = source.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    let run = std::thread::Builder::new()
        .name("template".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let _ = tx.send(analyse_here(&owned));
        });
    if run.is_err() {
        return vec![unanalysed("template analysis could not start".into())];
    }
    match rx.recv_timeout(std::time::Duration::from_secs(MAX_SECONDS)) {
        Ok(issues) => issues,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let mut a = Analyser::default();
            a.raw(source);
            a.issues.push(unanalysed(format!(
                "template analysis did not finish in {MAX_SECONDS} s; only searched for dunder names"
            )));
            a.issues
        }
        Err(_) => vec![unanalysed("template analysis failed".into())],
    }
}

fn analyse_here(source: &str) -> Vec<Issue> {
    let mut a = Analyser::default();
    match parse(source, "template", SyntaxConfig::default()) {
        Ok(tree) => a.stmt(&tree, 0),
        Err(e) => {
            a.issues.push(Issue {
                rule: TEMPLATE_UNPARSED,
                severity: Severity::High,
                message: format!(
                    "the template does not parse ({}); checked token by token only",
                    e.detail().unwrap_or("syntax error")
                ),
                line: u32::try_from(e.line().unwrap_or(1)).unwrap_or(u32::MAX),
                col: 1,
            });
            a.tokens(source);
        }
    }
    a.issues.truncate(MAX_ISSUES);
    a.issues
}

#[derive(Default)]
struct Analyser {
    issues: Vec<Issue>,
    /// Values of `{% set name = <constant> %}`, scopes merged.
    consts: HashMap<String, String>,
}

/// Why an attribute name is dangerous, if it is.
fn judge(name: &str) -> Option<(&'static str, Severity, String)> {
    let parts = name.split('.');
    for part in parts {
        if part.len() > 4 && part.starts_with("__") && part.ends_with("__") {
            return Some((
                TEMPLATE_INJECTION,
                Severity::Critical,
                format!("reaches the Python internals through `{part}`"),
            ));
        }
        if part.contains("__") || part.starts_with('_') {
            return Some((
                TEMPLATE_INJECTION,
                Severity::Critical,
                format!("accesses the private attribute `{part}`"),
            ));
        }
        if GADGETS.contains(&part) {
            return Some((
                TEMPLATE_INJECTION,
                Severity::High,
                format!("names `{part}`, a gadget used to run commands from templates"),
            ));
        }
    }
    None
}

impl Analyser {
    fn push(&mut self, rule: &'static str, severity: Severity, message: String, span: Span) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(Issue {
                rule,
                severity,
                message,
                line: u32::from(span.start_line),
                col: u32::from(span.start_col) + 1,
            });
        }
    }

    fn name(&mut self, name: &str, how: &str, span: Span) {
        if let Some((rule, sev, why)) = judge(name) {
            self.push(rule, sev, format!("{how} {why}"), span);
        }
    }

    fn stmts(&mut self, list: &[Stmt<'_>], depth: u32) {
        for s in list {
            self.stmt(s, depth + 1);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        match s {
            Stmt::Template(t) => self.stmts(&t.children, depth),
            Stmt::EmitExpr(e) => self.expr(&e.expr, depth),
            Stmt::EmitRaw(_) | Stmt::Continue(_) | Stmt::Break(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.target, depth);
                self.expr(&f.iter, depth);
                if let Some(e) = &f.filter_expr {
                    self.expr(e, depth);
                }
                self.stmts(&f.body, depth);
                self.stmts(&f.else_body, depth);
            }
            Stmt::IfCond(c) => {
                self.expr(&c.expr, depth);
                self.stmts(&c.true_body, depth);
                self.stmts(&c.false_body, depth);
            }
            Stmt::WithBlock(w) => {
                for (t, e) in &w.assignments {
                    self.expr(t, depth);
                    self.expr(e, depth);
                }
                self.stmts(&w.body, depth);
            }
            Stmt::Set(set) => {
                if let (Expr::Var(v), Some(value)) = (&set.target, self.fold(&set.expr, 0)) {
                    self.consts.insert(v.id.to_string(), value);
                }
                self.expr(&set.target, depth);
                self.expr(&set.expr, depth);
            }
            Stmt::SetBlock(b) => {
                if let Some(f) = &b.filter {
                    self.expr(f, depth);
                }
                self.stmts(&b.body, depth);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled, depth);
                self.stmts(&a.body, depth);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter, depth);
                self.stmts(&f.body, depth);
            }
            Stmt::Block(b) => self.stmts(&b.body, depth),
            Stmt::Import(i) => self.load("import", &i.expr, i.span(), depth),
            Stmt::FromImport(i) => self.load("from ... import", &i.expr, i.span(), depth),
            Stmt::Extends(e) => self.load("extends", &e.name, e.span(), depth),
            Stmt::Include(i) => self.load("include", &i.name, i.span(), depth),
            Stmt::Macro(m) => self.macro_decl(m, depth),
            Stmt::CallBlock(c) => {
                self.call(&c.call, depth);
                self.macro_decl(&c.macro_decl, depth);
            }
            Stmt::Do(d) => self.call(&d.call, depth),
        }
    }

    fn macro_decl(&mut self, m: &ast::Macro<'_>, depth: u32) {
        self.name(m.name, "a macro name", Span::default());
        for e in m.args.iter().chain(&m.defaults) {
            self.expr(e, depth);
        }
        self.stmts(&m.body, depth);
    }

    fn load(&mut self, what: &str, target: &Expr<'_>, span: Span, depth: u32) {
        let name = self
            .fold(target, 0)
            .unwrap_or_else(|| "a computed name".into());
        self.push(
            TEMPLATE_LOAD,
            Severity::High,
            format!("`{{% {what} %}}` loads another template ({name:?}): with a file loader, a chat template can read files"),
            span,
        );
        self.expr(target, depth);
    }

    fn call(&mut self, c: &ast::Call<'_>, depth: u32) {
        self.expr(&c.expr, depth + 1);
        self.args(&c.args, depth);
    }

    fn args(&mut self, args: &[CallArg<'_>], depth: u32) {
        for a in args {
            match a {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e, depth + 1),
            }
        }
    }

    /// An attribute name given as an expression: dangerous if it folds to
    /// a dangerous name, suspicious if it cannot be folded at all.
    fn attr_name(&mut self, e: &Expr<'_>, how: &str, span: Span) {
        match self.fold(e, 0) {
            Some(name) => self.name(&name, how, span),
            None => self.push(
                TEMPLATE_DYNAMIC_ATTR,
                Severity::High,
                format!("{how} is computed when the template runs, so any attribute, `__class__` included, can be reached"),
                span,
            ),
        }
    }

    fn expr(&mut self, e: &Expr<'_>, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        let d = depth + 1;
        match e {
            Expr::Var(v) => self.name(v.id, "the variable", v.span()),
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr, d);
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(x, d);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, d),
            Expr::BinOp(b) => {
                self.expr(&b.left, d);
                self.expr(&b.right, d);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr, d);
                for op in &c.ops {
                    self.expr(&op.expr, d);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, d);
                self.expr(&i.true_expr, d);
                if let Some(f) = &i.false_expr {
                    self.expr(f, d);
                }
            }
            Expr::Filter(f) => self.filter(f, d),
            Expr::Test(t) => {
                self.expr(&t.expr, d);
                self.args(&t.args, d);
            }
            Expr::GetAttr(g) => {
                self.name(g.name, "attribute access", g.span());
                self.expr(&g.expr, d);
            }
            Expr::GetItem(g) => {
                if let Some(key) = self.fold(&g.subscript_expr, 0) {
                    self.name(&key, "a subscript", g.span());
                }
                self.expr(&g.expr, d);
                self.expr(&g.subscript_expr, d);
            }
            Expr::Call(c) => self.call(c, d),
            Expr::List(l) => {
                for x in &l.items {
                    self.expr(x, d);
                }
            }
            Expr::Tuple(t) => {
                for x in &t.items {
                    self.expr(x, d);
                }
            }
            Expr::Map(m) => {
                for x in m.keys.iter().chain(&m.values) {
                    self.expr(x, d);
                }
            }
        }
    }

    fn filter(&mut self, f: &ast::Spanned<ast::Filter<'_>>, depth: u32) {
        let span = f.span();
        if f.name == "attr" {
            match f.args.first() {
                Some(CallArg::Pos(a)) => self.attr_name(a, "the `attr` filter's name", span),
                _ => self.push(
                    TEMPLATE_DYNAMIC_ATTR,
                    Severity::High,
                    "the `attr` filter's name is passed indirectly".into(),
                    span,
                ),
            }
        } else if ATTRIBUTE_FILTERS.contains(&f.name) {
            for (i, a) in f.args.iter().enumerate() {
                match a {
                    CallArg::Kwarg("attribute", e) => {
                        self.attr_name(e, &format!("the `{}` filter's attribute", f.name), span)
                    }
                    CallArg::Pos(e) if i == 0 && f.name != "map" && f.name != "sum" => {
                        if matches!(f.name, "selectattr" | "rejectattr" | "groupby") {
                            self.attr_name(e, &format!("the `{}` filter's attribute", f.name), span)
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(e) = &f.expr {
            self.expr(e, depth);
        }
        self.args(&f.args, depth);
    }

    /// The string an expression always evaluates to, when it is built from
    /// literals and constant variables only.
    fn fold(&self, e: &Expr<'_>, depth: u32) -> Option<String> {
        if depth > 64 {
            return None;
        }
        let d = depth + 1;
        let s = match e {
            Expr::Const(c) => match c.value.as_str() {
                Some(s) => s.to_string(),
                None => c.value.to_string(),
            },
            Expr::Var(v) => self.consts.get(v.id)?.clone(),
            Expr::BinOp(b) => match b.op {
                ast::BinOpKind::Add | ast::BinOpKind::Concat => {
                    let mut l = self.fold(&b.left, d)?;
                    l.push_str(&self.fold(&b.right, d)?);
                    l
                }
                ast::BinOpKind::Mul => {
                    let (text, n) = match (self.fold(&b.left, d), &b.right, &b.left) {
                        (Some(t), Expr::Const(n), _) => (t, n.value.as_i64()?),
                        (_, _, Expr::Const(n)) => (self.fold(&b.right, d)?, n.value.as_i64()?),
                        _ => return None,
                    };
                    let n = usize::try_from(n).ok()?;
                    if text.len().saturating_mul(n) > MAX_FOLD {
                        return None;
                    }
                    text.repeat(n)
                }
                _ => return None,
            },
            Expr::Filter(f) => self.fold_filter(f, d)?,
            Expr::Call(c) => match &c.expr {
                // Python's str methods: 'sep'.join([...]), 'x'.replace(...)
                Expr::GetAttr(g) if g.name == "join" => {
                    let sep = self.fold(&g.expr, d)?;
                    let Some(CallArg::Pos(list)) = c.args.first() else {
                        return None;
                    };
                    self.fold_list(list, d)?.join(&sep)
                }
                _ => return None,
            },
            _ => return None,
        };
        (s.len() <= MAX_FOLD).then_some(s)
    }

    fn fold_list(&self, e: &Expr<'_>, depth: u32) -> Option<Vec<String>> {
        let items = match e {
            Expr::List(l) => &l.items,
            Expr::Tuple(t) => &t.items,
            // The parser turns lists of literals into one constant.
            Expr::Const(c) => {
                return c
                    .value
                    .try_iter()
                    .ok()?
                    .map(|v| v.as_str().map(str::to_string))
                    .collect();
            }
            _ => return None,
        };
        items.iter().map(|x| self.fold(x, depth + 1)).collect()
    }

    fn fold_filter(&self, f: &ast::Filter<'_>, depth: u32) -> Option<String> {
        let input = f.expr.as_ref()?;
        let pos = |i: usize| match f.args.get(i) {
            Some(CallArg::Pos(e)) => self.fold(e, depth),
            _ => None,
        };
        Some(match f.name {
            "join" => {
                let sep = if f.args.is_empty() {
                    String::new()
                } else {
                    pos(0)?
                };
                self.fold_list(input, depth)?.join(&sep)
            }
            "lower" => self.fold(input, depth)?.to_lowercase(),
            "upper" => self.fold(input, depth)?.to_uppercase(),
            "trim" => self.fold(input, depth)?.trim().to_string(),
            "string" => self.fold(input, depth)?,
            "reverse" => self.fold(input, depth)?.chars().rev().collect(),
            "replace" => {
                let text = self.fold(input, depth)?;
                let (from, to) = (pos(0)?, pos(1)?);
                if from.is_empty() {
                    return None;
                }
                text.replace(&from, &to)
            }
            "format" => {
                let mut out = self.fold(input, depth)?;
                for i in 0..f.args.len() {
                    out = out.replacen("%s", &pos(i)?, 1);
                }
                out
            }
            _ => return None,
        })
    }

    /// What is left of a template the parser rejects: every identifier
    /// and string literal is judged alone.
    fn tokens(&mut self, source: &str) {
        // The tokenizer stops at its first error, which a hostile template
        // can put before its payload: the raw text is searched too.
        self.raw(source);
        for item in tokenize(source, false, SyntaxConfig::default()) {
            let Ok((tok, span)) = item else {
                break;
            };
            match tok {
                Token::Ident(name) => self.name(name, "the name", span),
                Token::Str(s) => self.name(s, "the string literal", span),
                Token::String(s) => self.name(&s, "the string literal", span),
                _ => {}
            }
            if self.issues.len() >= MAX_ISSUES {
                break;
            }
        }
    }
}

impl Analyser {
    /// Every dunder name (`__globals__`, `__builtins__`...) anywhere in the
    /// raw text, in strings and comments too: what needs no parse to be
    /// seen. Positions are counted by lines.
    fn raw(&mut self, source: &str) {
        for (i, line) in source.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("__") {
                let tail = rest.get(at..).unwrap_or("");
                let end = tail
                    .char_indices()
                    .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                    .map_or(tail.len(), |(j, _)| j);
                let word = tail.get(..end).unwrap_or("");
                if word.len() > 4 && word.ends_with("__") && !word.trim_matches('_').is_empty() {
                    let col = line.len() - rest.len() + at;
                    self.push_at(
                        TEMPLATE_INJECTION,
                        Severity::Critical,
                        format!("the text reaches the Python internals through `{word}`"),
                        i,
                        col,
                    );
                }
                rest = tail.get(end.max(2)..).unwrap_or("");
                if self.issues.len() >= MAX_ISSUES {
                    return;
                }
            }
        }
    }

    fn push_at(
        &mut self,
        rule: &'static str,
        severity: Severity,
        message: String,
        line: usize,
        col: usize,
    ) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(Issue {
                rule,
                severity,
                message,
                line: u32::try_from(line + 1).unwrap_or(u32::MAX),
                col: u32::try_from(col + 1).unwrap_or(u32::MAX),
            });
        }
    }
}

/// Findings for the template stored under `key` at `loc`: one per rule,
/// listing what was found where (line:column), worst first.
pub fn findings(text: &str, key: &str, loc: &Location) -> Vec<Finding> {
    let mut by_rule: Vec<(&'static str, Vec<Issue>)> = Vec::new();
    for i in analyse(text) {
        match by_rule.iter_mut().find(|(r, _)| *r == i.rule) {
            Some((_, list)) => list.push(i),
            None => by_rule.push((i.rule, vec![i])),
        }
    }
    by_rule
        .into_iter()
        .filter_map(|(rule, mut list)| {
            list.sort_by_key(|i| std::cmp::Reverse(i.severity));
            let first = list.first()?;
            let places: Vec<String> = list
                .iter()
                .take(5)
                .map(|i| format!("{} ({}:{})", i.message, i.line, i.col))
                .collect();
            let more = match list.len() {
                n if n > 5 => format!("; {} more", n - 5),
                _ => String::new(),
            };
            Some(
                Finding::new(
                    rule,
                    first.severity,
                    loc.clone(),
                    format!("template `{key}`: {}{more}", places.join("; ")),
                )
                .with("key", key)
                .with("line", first.line.to_string())
                .with("column", first.col.to_string())
                .with("occurrences", list.len().to_string()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(src: &str) -> Vec<&'static str> {
        analyse(src).into_iter().map(|i| i.rule).collect()
    }

    #[test]
    fn ordinary_chat_template_is_clean() {
        let t = "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] | trim + eos_token }}{% elif loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}{{ messages|map(attribute='content')|join(' ') }}{% set ns = namespace(found=false) %}{{ raise_exception('bad role') if ns.found }}";
        assert_eq!(analyse(t), vec![]);
    }

    #[test]
    fn dunder_chains_are_injection() {
        let t = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
        let issues = analyse(t);
        assert!(issues.iter().all(|i| i.rule == TEMPLATE_INJECTION));
        assert!(issues.iter().any(|i| i.message.contains("__class__")));
        assert_eq!(issues.first().map(|i| i.severity), Some(Severity::Critical));
    }

    #[test]
    fn obfuscated_spellings_are_folded() {
        for t in [
            "{{ x|attr('__cla'+'ss__') }}",
            "{{ x|attr('_'*2 + 'class' + '_'*2) }}",
            "{{ x|attr(['__', 'globals', '__']|join) }}",
            "{{ x|attr('__ssalc__'|reverse) }}",
            "{{ x[('__CLASS__')|lower] }}",
            "{% set a = '__glo' %}{% set b = a ~ 'bals__' %}{{ x|attr(b) }}",
            "{{ x|attr('%sclass%s'|format('__', '__')) }}",
            "{{ x|attr(''.join(['__', 'init', '__'])) }}",
            "{{ x|map(attribute='__class__')|list }}",
            "{{ self._TemplateReference__context }}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        ] {
            assert!(rules(t).contains(&TEMPLATE_INJECTION), "missed: {t}");
        }
    }

    #[test]
    fn computed_attribute_names_and_loads() {
        assert_eq!(
            rules("{{ x|attr(request.args.a) }}"),
            vec![TEMPLATE_DYNAMIC_ATTR]
        );
        assert!(rules("{% include '/etc/passwd' %}").contains(&TEMPLATE_LOAD));
        assert!(rules("{% import 'x' as y %}").contains(&TEMPLATE_LOAD));
    }

    #[test]
    fn templates_past_one_mib_are_parsed_not_downgraded() {
        // Before: over 1 MiB was TEMPLATE-UNPARSED at medium, which
        // `--fail-on high` passed, and the payload was never seen.
        let padded = format!(
            "{{{{ messages }}}}{}{{{{ self.__init__.__globals__.__builtins__ }}}}",
            " ".repeat(3 << 20)
        );
        let issues = analyse(&padded);
        assert!(
            issues
                .iter()
                .any(|i| i.rule == TEMPLATE_INJECTION && i.severity == Severity::Critical),
            "{issues:?}"
        );
        assert!(
            !issues.iter().any(|i| i.rule == TEMPLATE_UNPARSED),
            "{issues:?}"
        );
        // Past the memory bound: high, and still searched.
        let huge = format!("{}{{{{ x.__globals__ }}}}", " ".repeat(MAX_TEMPLATE));
        let issues = analyse(&huge);
        assert!(issues
            .iter()
            .any(|i| i.rule == TEMPLATE_UNPARSED && i.severity == Severity::High));
        assert!(
            issues.iter().any(|i| i.severity == Severity::Critical),
            "{issues:?}"
        );
    }

    #[test]
    fn a_tokenizer_error_does_not_hide_what_follows() {
        // The tokenizer stops at the unterminated string; the raw text
        // search still sees the dunder names after it.
        let issues = analyse("{{ 'open }}\n{{ cycler.__init__.__globals__.os.popen('id') }}");
        assert!(issues
            .iter()
            .any(|i| i.rule == TEMPLATE_UNPARSED && i.severity == Severity::High));
        assert!(
            issues.iter().any(|i| i.message.contains("__globals__")),
            "{issues:?}"
        );
    }

    #[test]
    fn unparsable_template_is_checked_by_tokens() {
        let r = rules("{% generation %}{{ x.__class__ }}{% endgeneration %}");
        assert!(r.contains(&TEMPLATE_UNPARSED), "{r:?}");
        assert!(r.contains(&TEMPLATE_INJECTION), "{r:?}");
    }

    #[test]
    fn deep_operator_chains_do_not_overflow() {
        let t = format!("{{{{ {}a }}}}", "a+".repeat(200_000));
        let _ = analyse(&t);
        let t = "{% if a %}".repeat(10_000);
        let _ = analyse(&t);
    }
}
