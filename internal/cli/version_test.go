package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "b010400bc0377f5d5c72b05915bdf85b25514f81"},
			{Key: "vcs.time", Value: "2026-12-01T18:44:46Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	for _, tt := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"release of a tag", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: vcs("false")},
			"roster v1.2.3\ncommit b010400bc0377f5d5c72b05915bdf85b25514f81\ndate   2026-12-01T18:44:46Z\n"},
		{"checkout between tags", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201184446-b010400bc037+dirty"}, Settings: vcs("true")},
			"roster v0.0.0-20261201184446-b010400bc037+dirty\ncommit b010400bc0377f5d5c72b05915bdf85b25514f81 (with uncommitted changes)\ndate   2026-12-01T18:44:46Z\n"},
		{"go install module@version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			"roster v1.2.3\n"},
		{"devel with a commit", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")},
			"roster (devel) b010400bc037-dirty\ncommit b010400bc0377f5d5c72b05915bdf85b25514f81 (with uncommitted changes)\ndate   2026-12-01T18:44:46Z\n"},
		{"devel without VCS", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "roster (devel)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(&tt.info); got != tt.want {
				t.Errorf("versionText:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}
