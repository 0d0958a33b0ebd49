package cli

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with
// -ldflags "-X github.com/papermail/papermail/internal/cli.version=v1.2.3";
// without it the module version from the build info is used.
var version = ""

// Version describes this build: the version, the VCS revision and time
// (with "+dirty" for uncommitted changes) and the Go version, from
// runtime/debug build information.
func Version() string {
	v := version
	rev, when, dirty := "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = cmp.Or(v, bi.Main.Version)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	v = cmp.Or(v, "(devel)")
	var b strings.Builder
	fmt.Fprintf(&b, "papermail %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		fmt.Fprintf(&b, " revision %s", rev)
		if when != "" {
			fmt.Fprintf(&b, " (%s)", when)
		}
	} else {
		b.WriteString(" revision unknown (built without VCS information)")
	}
	fmt.Fprintf(&b, " %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func cmdVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "version")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, Version())
	return nil
}
