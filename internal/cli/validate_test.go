package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/output"
)

func TestNewValidateCmdParsesFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    ValidateOptions
		format  output.Format
		wantErr string
	}{
		{args: []string{"a.yaml", "dir"}, want: ValidateOptions{Paths: []string{"a.yaml", "dir"}}, format: output.Text},
		{args: []string{"--strict", "--check-secrets", "--format", "json", "a.yaml"},
			want: ValidateOptions{Paths: []string{"a.yaml"}, Strict: true, CheckSecrets: true}, format: output.JSON},
		{args: nil, wantErr: "validate needs at least one file or directory"},
		{args: []string{"--format", "xml", "a.yaml"}, wantErr: `invalid argument "xml" for "--format" flag: unknown format "xml": use text or json`},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *ValidateOptions
		cmd := newValidateCmd(ios, func(o *ValidateOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if diff := cmp.Diff(&tt.want, got, cmpopts.IgnoreFields(ValidateOptions{}, "IO", "Format")); diff != "" {
			t.Errorf("%q: options (-want +got):\n%s", tt.args, diff)
		}
		if got.Format.Format() != tt.format {
			t.Errorf("%q: format %v, want %v", tt.args, got.Format.Format(), tt.format)
		}
	}
}
