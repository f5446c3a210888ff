package smbnode

import (
	"errors"

	"golang.org/x/sys/unix"

	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// sdXattr holds a security descriptor a client set (self-relative, as
// sent). Without one, the descriptor is mapped from owner and mode.
const sdXattr = "user.shoal.sd"

// getSecurity returns the descriptor of an open, restricted to the parts
// secInfo asks for.
func (r *request) getSecurity(o *open, info vfs.Info, secInfo uint32) ([]byte, error) {
	if o.f != nil {
		buf := make([]byte, 64<<10)
		n, err := unix.Fgetxattr(int(o.f.Fd()), sdXattr, buf)
		if err == nil && n > 0 {
			return buf[:n], nil
		}
	}
	return vfs.SecurityDescriptor(info, secInfo), nil
}

// setSecurity stores a descriptor set through SET_INFO (or a SecD create
// context) on an open.
func (r *request) setSecurity(o *open, secInfo uint32, sd []byte) error {
	if o.f == nil {
		return wire.StatusNotSupported
	}
	if len(sd) < 20 || sd[0] != 1 {
		return wire.StatusInvalidSecurityDescr
	}
	err := unix.Fsetxattr(int(o.f.Fd()), sdXattr, sd, 0)
	if errors.Is(err, unix.ENOTSUP) {
		return wire.StatusNotSupported
	}
	return err
}
