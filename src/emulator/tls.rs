//! TLS for the emulator's `https://` and `wss://`: a rustls server
//! configuration from a given certificate and key, or from a CA and a leaf
//! certificate generated at start (the CA's PEM is handed to tests).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io;
use std::sync::Arc;

/// The names the generated certificate is valid for.
pub(crate) const GENERATED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A server configuration and, when generated, the CA that signed it.
#[derive(Debug, Clone)]
pub(crate) struct TlsSetup {
    /// The rustls server configuration.
    pub config: Arc<rustls::ServerConfig>,
    /// The generated CA certificate (PEM).
    pub ca_pem: Option<String>,
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_error("TLS certificate", e))?;
    Ok(Arc::new(config))
}

/// Generates a CA and a leaf for localhost, 127.0.0.1 and ::1.
pub(crate) fn generated() -> io::Result<TlsSetup> {
    let gen = |e: rcgen::Error| tls_error("generating the TLS certificate", e);
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "trueconf-bot emulator test CA");
    ca_params.distinguished_name = dn;
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(gen)?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(gen)?;

    let names: Vec<String> = GENERATED_NAMES.iter().map(|s| s.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names).map_err(gen)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = dn;
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let leaf_key = KeyPair::generate().map_err(gen)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(gen)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = server_config(vec![leaf.der().clone(), ca.der().clone()], key)?;
    Ok(TlsSetup {
        config,
        ca_pem: Some(ca.pem()),
    })
}

/// A configuration from a PEM certificate chain and a PEM private key.
pub(crate) fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<TlsSetup> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error("TLS certificate PEM", e))?;
    if chain.is_empty() {
        return Err(tls_error(
            "TLS certificate PEM",
            "no CERTIFICATE block found",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls_error("TLS key PEM", e))?;
    Ok(TlsSetup {
        config: server_config(chain, key)?,
        ca_pem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_usable_configuration() {
        let setup = generated().unwrap();
        let pem = setup.ca_pem.unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(from_pem(b"nothing", b"nothing").is_err());
    }
}
