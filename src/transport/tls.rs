//! TLS settings shared by the WebSocket and every HTTP call.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Which server certificates to trust.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificates (DER), on top of the system and
    /// WebPKI roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Accept any certificate, unverified. Only when explicitly asked for.
    pub accept_any: bool,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("extra_roots", &self.extra_roots.len())
            .field("accept_any", &self.accept_any)
            .finish()
    }
}

impl TlsOptions {
    /// Adds the CA certificates of a PEM text: all of them, or none if one
    /// cannot be used as a trust anchor (it is not a certificate inside).
    pub fn add_ca_pem(&mut self, pem: &[u8]) -> Result<()> {
        let mut certs = Vec::new();
        for (n, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert = cert.map_err(|e| Error::Config(format!("CA certificate PEM: {e}")))?;
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| {
                    Error::Config(format!(
                        "CA certificate PEM: certificate {} cannot be used: {e}",
                        n + 1
                    ))
                })?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(Error::Config(
                "CA certificate PEM: no CERTIFICATE block found".into(),
            ));
        }
        self.extra_roots.extend(certs);
        Ok(())
    }

    /// Every trusted root: system, WebPKI, and the extra ones.
    fn trusted_roots(&self) -> Vec<CertificateDer<'static>> {
        let mut all = system_roots().clone();
        all.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        all.extend(self.extra_roots.iter().cloned());
        all
    }

    /// The rustls client configuration for the WebSocket.
    pub fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?;
        let config = if self.accept_any {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut store = rustls::RootCertStore::empty();
            store.add_parsable_certificates(self.trusted_roots());
            builder.with_root_certificates(store).with_no_client_auth()
        };
        Ok(Arc::new(config))
    }

    /// The same trust settings for ureq's HTTP calls.
    pub fn ureq_config(&self) -> ureq::tls::TlsConfig {
        let builder = ureq::tls::TlsConfig::builder();
        if self.accept_any {
            return builder.disable_verification(true).build();
        }
        let certs: Vec<ureq::tls::Certificate<'static>> = self
            .trusted_roots()
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        builder
            .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
            .build()
    }
}

/// The system's trusted roots, loaded once per process.
fn system_roots() -> &'static Vec<CertificateDer<'static>> {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            log::debug!("system root certificates: {e}");
        }
        found.certs
    })
}

/// A verifier that accepts every certificate but still checks that the
/// handshake signatures are well formed.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Turns an I/O error that wraps a rustls error into a clear TLS error.
pub fn classify_io(err: std::io::Error) -> Error {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(describe);
    match tls {
        Some(text) => Error::Tls(text),
        None => Error::Io(err),
    }
}

/// A person-readable account of a rustls error.
pub fn describe(err: &rustls::Error) -> String {
    use rustls::CertificateError as Why;
    match err {
        rustls::Error::InvalidCertificate(why) => {
            let why = match why {
                Why::UnknownIssuer => "issued by a CA this client does not trust".to_string(),
                Why::Expired => "expired".to_string(),
                Why::NotValidYet => "not valid yet".to_string(),
                Why::NotValidForName => "not valid for the server's name".to_string(),
                Why::Revoked => "revoked".to_string(),
                Why::BadSignature => "badly signed".to_string(),
                // webpki's refusal of a self-signed certificate made as a
                // CA (`CA:TRUE`), as `openssl req -x509` makes by default:
                // trusting it as a CA does not make it a server's.
                Why::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                    "it is a CA certificate (self-signed with CA:TRUE), which is never accepted \
                     as a server's own, even when trusted as a CA: give the server a \
                     certificate issued by that CA"
                        .to_string()
                }
                other => other.to_string(),
            };
            format!(
                "the server's certificate is not trusted ({why}); pass its CA with a CA \
                 certificate option, or accept any certificate explicitly"
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CertificateError, OtherError};

    /// Stands for webpki's error of that name (its `Debug` is the name).
    #[derive(Debug)]
    struct CaUsedAsEndEntity;

    impl std::fmt::Display for CaUsedAsEndEntity {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("CaUsedAsEndEntity")
        }
    }

    impl std::error::Error for CaUsedAsEndEntity {}

    #[test]
    fn untrusted_certificates_are_described_in_words() {
        let said = |why| describe(&rustls::Error::InvalidCertificate(why));
        let unknown = said(CertificateError::UnknownIssuer);
        assert!(
            unknown.contains("issued by a CA this client does not trust"),
            "{unknown}"
        );
        let ca = said(CertificateError::Other(OtherError(Arc::new(
            CaUsedAsEndEntity,
        ))));
        assert!(ca.contains("self-signed with CA:TRUE"), "{ca}");
        assert!(!ca.contains("OtherError"), "{ca}");
        let expired = said(CertificateError::Expired);
        assert!(expired.contains("not trusted (expired)"), "{expired}");
    }
}
