package maildirsvc

import "os"

// statDir reports whether p is an existing directory.
func statDir(p string) (bool, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}
