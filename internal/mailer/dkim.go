package mailer

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// minRSABits is the smallest RSA key accepted for signing (RFC 8301 sets
// 1024 as the verifier minimum; 2048 is recommended).
const minRSABits = 1024

// loadDKIMKey reads a PEM private key file; errors name the file.
func loadDKIMKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mailer: read DKIM key: %w", err)
	}
	k, err := parseDKIMKey(b)
	if err != nil {
		return nil, fmt.Errorf("mailer: DKIM key %s: %w", path, err)
	}
	return k, nil
}

// parseDKIMKey parses an RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8) PEM
// private key.
func parseDKIMKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block found (want a PEM private key)")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (want \"PRIVATE KEY\" or \"RSA PRIVATE KEY\")", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", strings.ToLower(block.Type), err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("RSA key has %d bits, need at least %d (2048 recommended)", bits, minRSABits)
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("invalid RSA key: %w", err)
		}
		k.Precompute()
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported key type %T (want RSA or Ed25519)", key)
	}
}

// GenerateDKIMKey creates a signing key (alg "rsa" for RSA 2048 or
// "ed25519") and returns it as PKCS#8 PEM together with the DNS TXT
// record to publish at <selector>._domainkey.<domain>.
func GenerateDKIMKey(alg string) (privPEM []byte, dnsRecord string, err error) {
	var key crypto.Signer
	switch strings.ToLower(alg) {
	case "", "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, "", fmt.Errorf("mailer: unknown DKIM key algorithm %q (want rsa or ed25519)", alg)
	}
	if err != nil {
		return nil, "", fmt.Errorf("mailer: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("mailer: encode %s key: %w", alg, err)
	}
	rec, err := dkimRecord(key.Public())
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), rec, nil
}

// DKIMRecordForKey returns the DNS TXT record ("v=DKIM1; k=...; p=...")
// for a PEM private key.
func DKIMRecordForKey(privPEM []byte) (string, error) {
	k, err := parseDKIMKey(privPEM)
	if err != nil {
		return "", fmt.Errorf("mailer: DKIM key: %w", err)
	}
	return dkimRecord(k.Public())
}

func dkimRecord(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return "", fmt.Errorf("mailer: encode RSA public key: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		// RFC 8463: the raw 32-byte key, not SubjectPublicKeyInfo.
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(p), nil
	}
	return "", fmt.Errorf("mailer: unsupported public key type %T", pub)
}
