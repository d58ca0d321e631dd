package frame

// ErrorCode identifies a frame error.
type ErrorCode uint8

// Error codes.
const (
	CodeShort ErrorCode = iota + 1
	CodeMagic
	CodeVersion
	CodeType
	CodeReserved
	CodeTooLarge
	CodeLength
	CodeChecksum
	CodeShortBuffer
)

// Error is a frame encoding or decoding error. The package returns only the
// values below, so errors.Is(err, ErrChecksum) and errors.As(err, &*Error) both
// work, and returning one never allocates.
type Error struct {
	Code ErrorCode
	msg  string
}

func (e *Error) Error() string { return "frame: " + e.msg }

// Decode and encode errors.
var (
	ErrShort       = &Error{CodeShort, "shorter than a header"}
	ErrMagic       = &Error{CodeMagic, "bad magic: not a netduel frame"}
	ErrVersion     = &Error{CodeVersion, "unsupported version"}
	ErrType        = &Error{CodeType, "unknown frame type"}
	ErrReserved    = &Error{CodeReserved, "reserved bits set"}
	ErrTooLarge    = &Error{CodeTooLarge, "frame larger than the limit"}
	ErrLength      = &Error{CodeLength, "datagram length does not match the header's body length"}
	ErrChecksum    = &Error{CodeChecksum, "CRC32C mismatch: corrupt frame"}
	ErrShortBuffer = &Error{CodeShortBuffer, "buffer too small for the frame"}
)
