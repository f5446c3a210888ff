package smbcrypto

import "errors"

var (
	// ErrUnknownCipher: a cipher ID other than CipherAES128CCM..CipherAES256GCM.
	ErrUnknownCipher = errors.New("smbcrypto: unknown cipher")

	// ErrUnknownAlgorithm: a signing algorithm other than HMACSHA256,
	// AESCMAC or AESGMAC.
	ErrUnknownAlgorithm = errors.New("smbcrypto: unknown signing algorithm")

	// ErrKeySize: a key of the wrong length for the algorithm.
	ErrKeySize = errors.New("smbcrypto: wrong key size")

	// ErrNonceSize: a nonce of the wrong length for the cipher.
	ErrNonceSize = errors.New("smbcrypto: wrong nonce size")

	// ErrMalformed: a TRANSFORM_HEADER message that is too short, has the
	// wrong protocol ID or flags, or whose OriginalMessageSize does not
	// match. Maps to dropping the connection.
	ErrMalformed = errors.New("smbcrypto: malformed encrypted message")

	// ErrAuthentication: decryption failed (wrong key, tampered message).
	ErrAuthentication = errors.New("smbcrypto: message authentication failed")

	// ErrNonceExhausted: a NonceSource has handed out all its nonces; the
	// session must be re-established.
	ErrNonceExhausted = errors.New("smbcrypto: nonce space exhausted")

	// ErrTooLarge: a message larger than the cipher can protect.
	ErrTooLarge = errors.New("smbcrypto: message too large")
)
