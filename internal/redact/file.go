package redact

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data, with s's secrets masked, to the file path, readable and writable by its
// owner only (0600) even when the file existed with wider permissions. A regular file is
// replaced whole: data goes to a new file in the same directory that then takes path's place,
// so nobody who opened the old file reads the new content, and an interrupted write leaves the
// old file as it was. Anything else (a terminal, a pipe, /dev/stdout) is written in place.
// A symbolic link is followed.
func (s *Secrets) WriteFile(path string, data []byte) error {
	data = s.Bytes(data)
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	info, err := os.Stat(path)
	switch {
	case err == nil && !info.Mode().IsRegular():
		return os.WriteFile(path, data, 0o600)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
