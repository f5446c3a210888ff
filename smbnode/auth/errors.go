package auth

import "errors"

var (
	// ErrLogonFailure: unknown user, wrong password, refused anonymous or
	// guest logon, NTLMv1/LM response, or a bad MIC. Maps to
	// STATUS_LOGON_FAILURE.
	ErrLogonFailure = errors.New("auth: logon failure")

	// ErrInvalidToken: a security buffer that is not well-formed SPNEGO or
	// NTLMSSP, or not the message expected at this point of the exchange.
	// Maps to STATUS_INVALID_PARAMETER.
	ErrInvalidToken = errors.New("auth: invalid security token")

	// ErrMechUnsupported: the client's SPNEGO mechTypes do not offer NTLMSSP.
	// Maps to STATUS_NOT_SUPPORTED.
	ErrMechUnsupported = errors.New("auth: no supported security mechanism offered")

	// ErrMICMismatch: the NTLM AUTHENTICATE MIC or the SPNEGO mechListMIC
	// did not verify. Always returned wrapped together with ErrLogonFailure.
	ErrMICMismatch = errors.New("auth: message integrity check failed")

	// ErrSessionDone: Step was called after the exchange had already
	// succeeded or failed. Maps to STATUS_INVALID_PARAMETER.
	ErrSessionDone = errors.New("auth: authentication exchange already finished")

	// ErrInvalidConfig: Config.Validate found a problem.
	ErrInvalidConfig = errors.New("auth: invalid config")
)
