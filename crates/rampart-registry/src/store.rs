//! Where the registry's state is kept: SQLite (a file under `.rampart/`,
//! the default) or PostgreSQL (a team's shared server). Both hold the
//! same tables through the same SQL; only connecting, locking and value
//! conversion differ.
//!
//! The state is a cache of the ledger: `events` holds every registry
//! event applied, by ledger index, and `versions`, `aliases`, `moves` and
//! `approvals` are what those events made. `cursor` is how far the
//! ledger has been read.

use crate::Error;

/// A value in or out of SQL: the registry stores integers and text only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Val {
    Int(i64),
    Text(String),
    Null,
}

impl Val {
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Val::Int(i) => write!(f, "{i}"),
            Val::Text(s) => write!(f, "{s:?}"),
            Val::Null => f.write_str("null"),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}

impl From<u64> for Val {
    fn from(i: u64) -> Val {
        Val::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

/// One transaction holding the registry's lock: every decision and its
/// writes happen inside one, so two writers never decide on the same
/// state.
pub trait Tx {
    /// Runs a statement (`?` placeholders); returns the rows changed.
    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, Error>;
    /// Runs a query (`?` placeholders); returns its rows.
    fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Vec<Val>>, Error>;
    fn commit(self: Box<Self>) -> Result<(), Error>;
}

/// A store the registry can lock and write.
pub trait Backend: Send {
    /// Begins a transaction holding the registry's write lock (waiting
    /// for another writer, up to a bound).
    fn begin(&mut self) -> Result<Box<dyn Tx + '_>, Error>;
    /// Begins a read-only snapshot that waits for no writer.
    fn read(&mut self) -> Result<Box<dyn Tx + '_>, Error>;
    /// Where the store is, for messages (no password).
    fn describe(&self) -> String;
}

/// The tables. Integers are BIGINT so that PostgreSQL and SQLite agree.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cursor (id BIGINT PRIMARY KEY, next BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (ledger_index BIGINT PRIMARY KEY, model TEXT NOT NULL, version BIGINT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS versions (model TEXT NOT NULL, version BIGINT NOT NULL, sha256 TEXT NOT NULL, location TEXT NOT NULL, author TEXT NOT NULL, meta TEXT NOT NULL, lineage TEXT NOT NULL, deprecated BIGINT NOT NULL, registered_at BIGINT NOT NULL, PRIMARY KEY (model, version), UNIQUE (model, sha256))",
    "CREATE TABLE IF NOT EXISTS aliases (model TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL, moved_at BIGINT NOT NULL, PRIMARY KEY (model, alias))",
    "CREATE TABLE IF NOT EXISTS moves (ledger_index BIGINT PRIMARY KEY, model TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL, kind TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS approvals (ledger_index BIGINT PRIMARY KEY, model TEXT NOT NULL, version BIGINT NOT NULL, alias TEXT NOT NULL, approver TEXT NOT NULL, body TEXT NOT NULL)",
];

/// The tables `verify` compares: name, the columns that name a row, and
/// the other columns.
pub const TABLES: &[(&str, &str, &str)] = &[
    (
        "versions",
        "model, version",
        "sha256, location, author, meta, lineage, deprecated, registered_at",
    ),
    ("aliases", "model, alias", "version, moved_at"),
    ("moves", "ledger_index", "model, alias, version, kind"),
    (
        "approvals",
        "ledger_index",
        "model, version, alias, approver, body",
    ),
    ("events", "ledger_index", "model, version, kind, body"),
];

/// SQLite: a file, locked by `BEGIN IMMEDIATE`.
pub struct Sqlite {
    conn: rusqlite::Connection,
    path: String,
}

impl Sqlite {
    /// Opens (creating) the store at `path`; `:memory:` for a private one.
    pub fn open(path: &str) -> Result<Sqlite, Error> {
        let conn = if path == ":memory:" {
            rusqlite::Connection::open_in_memory()
        } else {
            rusqlite::Connection::open(path)
        }
        .map_err(|e| Error::Store(format!("cannot open {path}: {e}")))?;
        let sql = |e: rusqlite::Error| {
            let hint = match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => "; it is not a registry database: move it aside, and `rampart registry rebuild` makes a new one from the ledger",
                _ => "",
            };
            Error::Store(format!("{path}: {e}{hint}"))
        };
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        for s in SCHEMA {
            conn.execute(s, []).map_err(sql)?;
        }
        Ok(Sqlite {
            conn,
            path: path.to_string(),
        })
    }
}

struct SqliteTx<'a>(rusqlite::Transaction<'a>, &'a str);

fn sqlite_args(args: &[Val]) -> Vec<rusqlite::types::Value> {
    args.iter()
        .map(|v| match v {
            Val::Int(i) => rusqlite::types::Value::Integer(*i),
            Val::Text(s) => rusqlite::types::Value::Text(s.clone()),
            Val::Null => rusqlite::types::Value::Null,
        })
        .collect()
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, Error> {
        let n = self
            .0
            .execute(sql, rusqlite::params_from_iter(sqlite_args(args)))
            .map_err(|e| Error::Store(format!("{}: {e}", self.1)))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Vec<Val>>, Error> {
        let err = |e: rusqlite::Error| Error::Store(format!("{}: {e}", self.1));
        let mut stmt = self.0.prepare(sql).map_err(err)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(sqlite_args(args)))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                r.push(match row.get_ref(i).map_err(err)? {
                    rusqlite::types::ValueRef::Integer(x) => Val::Int(x),
                    rusqlite::types::ValueRef::Text(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    _ => Val::Null,
                });
            }
            out.push(r);
        }
        Ok(out)
    }

    fn commit(self: Box<Self>) -> Result<(), Error> {
        let path = self.1;
        self.0
            .commit()
            .map_err(|e| Error::Store(format!("{path}: cannot commit: {e}")))
    }
}

impl Backend for Sqlite {
    fn read(&mut self) -> Result<Box<dyn Tx + '_>, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
            .map_err(|e| Error::Store(format!("{}: {e}", self.path)))?;
        Ok(Box::new(SqliteTx(tx, &self.path)))
    }

    fn begin(&mut self) -> Result<Box<dyn Tx + '_>, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| Error::Store(format!("{}: cannot lock: {e}", self.path)))?;
        Ok(Box::new(SqliteTx(tx, &self.path)))
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path)
    }
}

/// PostgreSQL: a server, locked by a transaction-scoped advisory lock.
pub struct Postgres {
    client: postgres::Client,
    shown: String,
}

/// The advisory lock every registry writer takes (an arbitrary constant:
/// "rampart" in ASCII).
const LOCK: i64 = 0x72_61_6d_70_61_72_74;

impl Postgres {
    /// Connects to `url` (`postgres://user@host:port/db`) and makes the
    /// tables.
    pub fn connect(url: &str) -> Result<Postgres, Error> {
        let shown = without_password(url);
        let mut client = postgres::Client::connect(url, postgres::NoTls)
            .map_err(|e| Error::Store(format!("cannot connect to {shown}: {}", pg_error(&e))))?;
        // Two first runs at once must not race to create the tables.
        let mut tx = client
            .transaction()
            .map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        for s in SCHEMA {
            tx.batch_execute(s)
                .map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        }
        tx.commit()
            .map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        Ok(Postgres { client, shown })
    }
}

/// A PostgreSQL error with the server's own message (`db error` alone
/// says nothing).
fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let source = std::error::Error::source(e).map(|s| format!(": {s}"));
            format!("{e}{}", source.unwrap_or_default())
        }
    }
}

/// `url` with any password replaced, for messages.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = url.get(s + 3..at).unwrap_or("");
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    url.get(..s + 3).unwrap_or(""),
                    url.get(at..).unwrap_or("")
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `?` placeholders as PostgreSQL's `$1, $2...`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

struct PgTx<'a>(postgres::Transaction<'a>, &'a str);

fn pg_args(args: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    args.iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::Int(i) => Box::new(*i),
                Val::Text(s) => Box::new(s.clone()),
                Val::Null => Box::new(Option::<String>::None),
            }
        })
        .collect()
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, Error> {
        let boxed = pg_args(args);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        self.0
            .execute(numbered(sql).as_str(), &refs)
            .map_err(|e| Error::Store(format!("{}: {}", self.1, pg_error(&e))))
    }

    fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Vec<Val>>, Error> {
        use postgres::types::Type;
        let boxed = pg_args(args);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        let err = |e: postgres::Error| Error::Store(format!("{}: {}", self.1, pg_error(&e)));
        let rows = self.0.query(numbered(sql).as_str(), &refs).map_err(err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut r = Vec::with_capacity(row.len());
            for (i, c) in row.columns().iter().enumerate() {
                let t = c.type_();
                r.push(if *t == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)
                        .map_err(err)?
                        .map_or(Val::Null, Val::Int)
                } else if *t == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)
                        .map_err(err)?
                        .map_or(Val::Null, |x| Val::Int(i64::from(x)))
                } else {
                    row.try_get::<_, Option<String>>(i)
                        .map_err(err)?
                        .map_or(Val::Null, Val::Text)
                });
            }
            out.push(r);
        }
        Ok(out)
    }

    fn commit(self: Box<Self>) -> Result<(), Error> {
        let shown = self.1;
        self.0
            .commit()
            .map_err(|e| Error::Store(format!("{shown}: cannot commit: {e}")))
    }
}

impl Backend for Postgres {
    fn read(&mut self) -> Result<Box<dyn Tx + '_>, Error> {
        let shown = &self.shown;
        let tx = self
            .client
            .transaction()
            .map_err(|e| Error::Store(format!("{shown}: {}", pg_error(&e))))?;
        Ok(Box::new(PgTx(tx, shown)))
    }

    fn begin(&mut self) -> Result<Box<dyn Tx + '_>, Error> {
        let shown = &self.shown;
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .map_err(|e| Error::Store(format!("{shown}: cannot lock: {e}")))?;
        Ok(Box::new(PgTx(tx, shown)))
    }

    fn describe(&self) -> String {
        format!("postgres {}", self.shown)
    }
}

/// Opens the store `url` names: `postgres://...` or `postgresql://...`,
/// else a SQLite file path (`sqlite://PATH` or a plain path).
pub fn open(url: &str) -> Result<Box<dyn Backend>, Error> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(Postgres::connect(url)?));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.contains("://") {
        return Err(Error::Store(format!(
            "{url}: a store is a SQLite file (a path, or sqlite://PATH) or postgres://USER@HOST:PORT/DB"
        )));
    }
    Ok(Box::new(Sqlite::open(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            without_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(without_password("postgres://u@h/db"), "postgres://u@h/db");
    }
}
