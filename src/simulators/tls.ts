// TLS material for the loopback simulators: a throw-away certificate authority and a server certificate for
// localhost / 127.0.0.1 / ::1 signed by it. Tests trust `caPem` through the client's CA option; nothing is
// written to disk or added to the system store. Also makes client certificates for certificate-credential tests.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface LoopbackTls {
  /** The CA certificate that signed `certPem`: what a client must trust. */
  caPem: string;
  /** The server certificate (PEM) and its private key (PEM, PKCS#1). */
  certPem: string;
  keyPem: string;
}

export interface SelfSignedCertificate {
  certPem: string;
  /** PKCS#1 PEM private key. */
  keyPem: string;
  /** Hex SHA-1 and SHA-256 of the DER certificate, as Entra and MSAL name thumbprints. */
  thumbprintSha1: string;
  thumbprintSha256: string;
}

function newRsaKeyPair(): { privatePem: string; publicPem: string } {
  // Node's native generator: forge's pure-JS RSA generation takes seconds.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

function newCertificate(publicPem: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // Positive serial: a leading 0x00..0x7f byte keeps DER from reading it as negative.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + days * 24 * 60 * 60 * 1000);
  return cert;
}

function thumbprints(cert: forge.pki.Certificate): { sha1: string; sha256: string } {
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return {
    sha1: createHash('sha1').update(der).digest('hex'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

/** Generate a CA and a loopback server certificate. Costs ~100 ms, so callers in one process share it via `loopbackTls()`. */
export function createLoopbackTls(): LoopbackTls {
  const caKeys = newRsaKeyPair();
  const caKey = forge.pki.privateKeyFromPem(caKeys.privatePem);
  const ca = newCertificate(caKeys.publicPem, 3650);
  const caName = [{ name: 'commonName', value: 'entra-sync simulator CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKey, forge.md.sha256.create());

  const serverKeys = newRsaKeyPair();
  const server = newCertificate(serverKeys.publicPem, 825);
  server.setSubject([{ name: 'commonName', value: 'localhost' }]);
  server.setIssuer(caName);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  server.sign(caKey, forge.md.sha256.create());

  return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(server), keyPem: serverKeys.privatePem };
}

let shared: LoopbackTls | undefined;

/** The process-wide loopback TLS material, generated on first use. */
export function loopbackTls(): LoopbackTls {
  shared ??= createLoopbackTls();
  return shared;
}

/** A self-signed certificate such as an admin uploads to an app registration for certificate credentials. */
export function createSelfSignedCertificate(commonName = 'entra-sync client'): SelfSignedCertificate {
  const keys = newRsaKeyPair();
  const cert = newCertificate(keys.publicPem, 365);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(keys.privatePem), forge.md.sha256.create());
  const { sha1, sha256 } = thumbprints(cert);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem, thumbprintSha1: sha1, thumbprintSha256: sha256 };
}

/** Hex SHA-1 and SHA-256 thumbprints of a PEM certificate. */
export function certificateThumbprints(pem: string): { sha1: string; sha256: string } {
  return thumbprints(forge.pki.certificateFromPem(pem));
}
