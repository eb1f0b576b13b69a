//! TorchScript source (`code/**/*.py` in a `torch.jit.save` archive).
//!
//! torch.jit.save writes the model's code as Python source that calls
//! `torch.*`, `ops.*` (operators), `__torch__.*` (the model's own classes),
//! TorchScript builtins and local names. A lexical pass finds every call
//! and import whose root is none of those: code an editor added.

/// Names TorchScript resolves without an import.
const BUILTINS: &[&str] = &[
    "torch",
    "ops",
    "__torch__",
    "self",
    "math",
    "CONSTANTS",
    "annotate",
    "unchecked_cast",
    "uninitialized",
    "isinstance",
    "int",
    "float",
    "bool",
    "str",
    "complex",
    "len",
    "range",
    "enumerate",
    "zip",
    "min",
    "max",
    "abs",
    "print",
    "getattr",
    "hasattr",
    "list",
    "dict",
    "tuple",
    "sorted",
    "round",
    "divmod",
    "ord",
    "chr",
    "hash",
    "hex",
    "oct",
    "bin",
    "all",
    "any",
    "sum",
    "Exception",
    "RuntimeError",
    "ValueError",
    "AssertionError",
    "NotImplementedError",
    "StopIteration",
    "IndexError",
    "KeyError",
    "TypeError",
    "ZeroDivisionError",
    "Tensor",
    "Optional",
    "List",
    "Dict",
    "Tuple",
    "Union",
    "Future",
    "Device",
    "Any",
    "NoneType",
    "super",
    "id",
    "reversed",
    "iter",
    "next",
    "slice",
    "format",
    "warn",
    "fork",
    "wait",
];

/// Most calls reported per file.
const MAX_REPORTED: usize = 20;

/// One call or import outside the allowed namespaces.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub line: usize,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Name(&'a str),
    Punct(char),
    Newline,
}

/// Tokens of Python source, with strings and comments dropped.
fn tokens(src: &str) -> Vec<(usize, Tok<'_>)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => {
                out.push((line, Tok::Newline));
                line += 1;
                i += 1;
            }
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
                let q = if triple { 3 } else { 1 };
                i += q;
                loop {
                    match b.get(i) {
                        None => break,
                        Some(b'\\') => i += 2,
                        Some(&x)
                            if x == c
                                && (!triple
                                    || (b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c))) =>
                        {
                            i += q;
                            break;
                        }
                        Some(b'\n') => {
                            line += 1;
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                if let Some(name) = src.get(start..i) {
                    out.push((line, Tok::Name(name)));
                }
            }
            c if c.is_ascii_digit() => {
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_')
                {
                    i += 1;
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                out.push((line, Tok::Punct(char::from(c))));
                i += 1;
            }
        }
    }
    out
}

/// Calls and imports outside torch, ops, builtins and local names.
pub fn check(src: &str) -> Vec<Call> {
    let toks = tokens(src);
    let locals = local_names(&toks);
    let mut out = Vec::new();
    let tok = |i: usize| toks.get(i).map(|t| &t.1);
    for (i, (line, t)) in toks.iter().enumerate() {
        let Tok::Name(name) = t else {
            continue;
        };
        let prev = i.checked_sub(1).and_then(tok);
        if matches!(*name, "import" | "from") && matches!(prev, None | Some(Tok::Newline)) {
            let module = dotted(&toks, i + 1);
            if !(module.starts_with("torch")
                || module.starts_with("__torch__")
                || module == "typing"
                || module == "math")
            {
                out.push(Call {
                    line: *line,
                    what: format!("imports {module}"),
                });
            }
            continue;
        }
        // The root of a dotted call chain: not after a dot, not a def.
        if matches!(
            prev,
            Some(Tok::Punct('.')) | Some(Tok::Name("def" | "class" | "import" | "as"))
        ) {
            continue;
        }
        let chain = dotted(&toks, i);
        let end = i + 2 * chain.matches('.').count() + 1;
        if tok(end) != Some(&Tok::Punct('(')) {
            continue;
        }
        if BUILTINS.contains(name) || locals.contains(name) || is_keyword(name) {
            continue;
        }
        if out.len() < MAX_REPORTED {
            out.push(Call {
                line: *line,
                what: format!("calls {chain}()"),
            });
        }
    }
    out
}

fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "if" | "elif"
            | "while"
            | "for"
            | "in"
            | "not"
            | "and"
            | "or"
            | "return"
            | "assert"
            | "raise"
            | "else"
            | "with"
            | "is"
            | "lambda"
            | "yield"
            | "del"
            | "pass"
            | "None"
            | "True"
            | "False"
    )
}

/// `a.b.c` starting at token `i`.
fn dotted(toks: &[(usize, Tok<'_>)], mut i: usize) -> String {
    let mut s = String::new();
    while let Some((_, Tok::Name(n))) = toks.get(i) {
        s.push_str(n);
        if toks.get(i + 1).map(|t| &t.1) == Some(&Tok::Punct('.')) {
            s.push('.');
            i += 2;
        } else {
            break;
        }
    }
    s
}

/// Names bound in the file: assignment targets, parameters, loop and
/// `with ... as` variables, and the file's own defs and classes.
fn local_names<'a>(toks: &[(usize, Tok<'a>)]) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut in_def_params = 0usize;
    for (i, (_, t)) in toks.iter().enumerate() {
        let next = toks.get(i + 1).map(|t| &t.1);
        let prev = i.checked_sub(1).and_then(|p| toks.get(p)).map(|t| &t.1);
        match t {
            Tok::Name("def") => in_def_params = 1,
            Tok::Punct('(') if in_def_params > 0 => in_def_params += 1,
            Tok::Punct(')') if in_def_params > 0 => {
                in_def_params -= 1;
                if in_def_params == 1 {
                    in_def_params = 0;
                }
            }
            Tok::Name(n) => {
                let param = in_def_params == 2 && matches!(prev, Some(Tok::Punct('(' | ',')));
                let assigned = matches!(next, Some(Tok::Punct('=' | ',')))
                    && toks.get(i + 2).map(|t| &t.1) != Some(&Tok::Punct('='));
                let bound = matches!(prev, Some(Tok::Name("for" | "as" | "def" | "class")));
                if param || assigned || bound {
                    names.push(*n);
                }
            }
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVED: &str = "class Net(Module):\n  __parameters__ = [\"weight\", ]\n  def forward(self: __torch__.Net,\n    x: Tensor) -> Tensor:\n    _0 = torch.linear(x, self.weight, None)\n    y = torch.relu(_0)\n    n = len(torch.size(y))\n    for i in range(n):\n      y = ops.prim.NumToTensor(i)\n    return annotate(Tensor, y)\n";

    #[test]
    fn saved_code_is_clean() {
        assert_eq!(check(SAVED), vec![]);
    }

    #[test]
    fn outside_calls_and_imports_are_found() {
        let evil = format!("import os\n{SAVED}    _1 = os.system(\"echo pwned\")\n    eval('1')\n    torch.add(x, 1)\n");
        let found: Vec<String> = check(&evil).into_iter().map(|c| c.what).collect();
        assert_eq!(
            found,
            vec!["imports os", "calls os.system()", "calls eval()"]
        );
    }

    #[test]
    fn strings_and_comments_are_ignored() {
        assert_eq!(
            check("x = 'os.system(1)'  # eval(2)\ny = \"\"\"exec(3)\"\"\"\n"),
            vec![]
        );
    }
}
