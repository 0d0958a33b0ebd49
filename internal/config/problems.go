package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the dotted key the problem is about ("smtp.port",
	// "feeds[2].format"); empty for problems with the file as a whole
	// (syntax errors, unknown or duplicate keys), whose Msg names the key.
	Key string
	// Source says where the offending value came from: "path:line" for the
	// configuration file, an environment variable name (PAPERMAIL_...), or
	// empty for a default or a Config built in code.
	Source string
	// Msg says what is wrong and what is allowed.
	Msg string
}

// String renders the problem as one line: "config.yaml:12: smtp.port: must
// be 1-65535, got 70000", "smtp.port (PAPERMAIL_SMTP_PORT): ..." or
// "smtp.port: ...".
func (p Problem) String() string {
	fromEnv := strings.HasPrefix(p.Source, envPrefix)
	var b strings.Builder
	if p.Source != "" && (!fromEnv || p.Key == "") {
		b.WriteString(p.Source + ": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		if fromEnv {
			b.WriteString(" (" + p.Source + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in one configuration.
type ValidationError struct {
	Problems []Problem
}

// Error renders one problem on one line, several as a counted list with
// one problem per line.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems; the zero value is ready to use.
type problems []Problem

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) addAt(source, key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Source: source, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil for no problems, else a *ValidationError.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}
