// Package smbcrypto holds the SMB2/3 cryptography: message signing
// (HMAC-SHA256, AES-CMAC, AES-GMAC; MS-SMB2 3.1.4.1), the SP800-108 key
// derivation and per-dialect session keys (MS-SMB2 3.1.4.2, 3.3.5.5.3),
// the 3.1.1 pre-authentication integrity hash, and SMB3 encryption with
// the TRANSFORM_HEADER (MS-SMB2 2.2.41, 3.1.4.3) using AES-128/256-CCM and
// AES-128/256-GCM.
//
// AES-CMAC (RFC 4493) and AES-CCM (RFC 3610) are implemented here on top of
// crypto/aes because the standard library has neither.
//
// All functions are safe for concurrent use unless their comment says
// otherwise. A NonceSource must be shared by everything that encrypts with
// one key; it is safe for concurrent use.
package smbcrypto
