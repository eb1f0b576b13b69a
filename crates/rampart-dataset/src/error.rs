use std::path::PathBuf;

/// What a data engine could not do; every variant names its file or
/// option.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the dataset failed, or records could not be read
    /// ([`Error::is_unread`]).
    #[error(transparent)]
    Table(#[from] rampart_table::Error),
    /// An option or a file that does not fit the data: a column that is
    /// not there, a threshold out of range, a report of another file.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The cause names the file.
    #[error("cannot hash {source}")]
    Digest {
        path: PathBuf,
        source: rampart_sign::Error,
    },
}

impl Error {
    /// Whether records of a file could not be read: the gate fails (the
    /// file was read), rather than the command being wrong.
    pub fn is_unread(&self) -> bool {
        matches!(self, Error::Table(rampart_table::Error::Unread { .. }))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// `bail!` for [`Error::Invalid`].
macro_rules! invalid {
    ($($t:tt)*) => {
        return Err($crate::Error::Invalid(format!($($t)*)))
    };
}
pub(crate) use invalid;
