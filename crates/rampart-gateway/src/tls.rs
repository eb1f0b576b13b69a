//! TLS (rustls with the ring provider) and client certificates: the
//! server's certificate and key are re-read when their files change, and
//! a client certificate chained to the configured CA bundle names a
//! principal `cert:IDENTITY` (its first DNS or URI subject alternative
//! name, else its subject's common name).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

/// `[serve.tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM), relative to the policy file.
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// CA bundle (PEM) for client certificates; set it to accept them.
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: refuse connections without a client certificate
    /// [default false: a client may use an API key or a JWT instead].
    #[serde(default)]
    pub require_client_cert: bool,
}

impl TlsConfig {
    /// Paths resolved against the policy's folder.
    pub fn resolve(&self, dir: &Path) -> TlsConfig {
        TlsConfig {
            cert: dir.join(&self.cert),
            key: dir.join(&self.key),
            client_ca: self.client_ca.as_ref().map(|c| dir.join(c)),
            require_client_cert: self.require_client_cert,
        }
    }

    /// The files whose change means a reload.
    pub fn files(&self) -> Vec<&Path> {
        let mut f = vec![self.cert.as_path(), self.key.as_path()];
        if let Some(c) = &self.client_ca {
            f.push(c);
        }
        f
    }

    /// Builds the server configuration from the files as they are now.
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        // ring, because aws-lc-rs needs cmake to build; rustls 0.23.48
        // deprecates ring's provider only for lacking post-quantum key
        // exchange, which is not offered here.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| format!("{}: {e}", self.cert.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", self.cert.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in it", self.cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| format!("{}: no private key: {e}", self.key.display()))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca)
                    .map_err(|e| format!("{}: {e}", ca.display()))?
                {
                    let c = c.map_err(|e| format!("{}: {e}", ca.display()))?;
                    roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
                }
                if roots.is_empty() {
                    return Err(format!("{}: no CA certificate in it", ca.display()));
                }
                let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let v = match self.require_client_cert {
                    true => v.build(),
                    false => v.allow_unauthenticated().build(),
                }
                .map_err(|e| format!("{}: {e}", ca.display()))?;
                builder.with_client_cert_verifier(v)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| format!("{}: {e}", self.cert.display()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The identity a verified client certificate names: its first DNS or
/// URI subject alternative name, else its subject's common name.
pub fn identity(cert: &[u8]) -> Option<String> {
    let c = x509_cert::Certificate::from_der(cert).ok()?;
    if let Ok(Some((_, san))) = c.tbs_certificate.get::<SubjectAltName>() {
        for n in san.0 {
            match n {
                GeneralName::DnsName(d) => return Some(d.to_string()),
                GeneralName::UniformResourceIdentifier(u) => return Some(u.to_string()),
                _ => {}
            }
        }
    }
    const CN: &str = "2.5.4.3";
    c.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == CN)
        .and_then(|atv| {
            x509_cert::der::asn1::Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    x509_cert::der::asn1::PrintableStringRef::try_from(&atv.value)
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
        .filter(|s| !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control))
}

/// The client certificate's identity, carried from the TLS session to
/// the request.
#[derive(Debug, Clone)]
pub struct ClientCert(pub String);
