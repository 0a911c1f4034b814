//! Just enough PEM to store one PKCS#8 key: a base64 body between BEGIN and END lines.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub(crate) const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";

pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

pub(crate) fn decode(label: &str, pem: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].split_whitespace().collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_round_trips() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = super::encode("PRIVATE KEY", &der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(super::decode("PRIVATE KEY", &pem), Some(der));
        assert_eq!(super::decode("PUBLIC KEY", &pem), None);
    }
}
