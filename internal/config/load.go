package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/papermail/papermail/internal/feeds"
	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path, overlays PAPERMAIL_* variables from
// environ (os.Environ() form, "KEY=value"), fills defaults and validates.
//
// An empty path means the file named by PAPERMAIL_CONFIG, or no file at
// all (defaults and environment only). Environment variables win over the
// file. Warnings report things that do not stop papermail, such as unknown
// PAPERMAIL_* variables. A file that cannot be read gives an error
// wrapping the os error; everything else wrong with the file, the
// variables or the values is reported together in one *ValidationError,
// returned alongside the configuration as far as it could be read.
func Load(path string, environ []string) (Config, []string, error) {
	env := parseEnviron(environ)
	if path == "" {
		path = env[EnvConfig]
	}
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return Config{}, nil, fmt.Errorf("config: read configuration file: %w", err)
		}
	}
	return load(data, path, env)
}

// load is Load after the file has been read; name labels positions in it.
func load(data []byte, name string, env map[string]string) (Config, []string, error) {
	l := loader{name: name, origins: make(map[string]string), bad: make(map[string]bool)}
	c := Default()
	if err := l.file(data, &c); err != nil {
		return c, nil, err
	}
	warnings := l.env(env, &c)
	if _, set := l.origins["smtp.port"]; !set {
		// The default port follows the TLS mode (465 for implicit TLS:
		// 587 would have the handshake fail against a submission port).
		c.SMTP.Port = SMTPPort(c.SMTP.TLS)
	}
	normalize(&c)
	for _, p := range c.problems() {
		if l.reported(p.Key) {
			continue // the value was already rejected while reading it
		}
		p.Source = l.origin(p.Key)
		l.problems = append(l.problems, p)
	}
	return c, warnings, l.problems.err()
}

// normalize fills defaults that depend on other values or on entries the
// user added, and trims what Validate would otherwise reject for form only.
func normalize(c *Config) {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Digest.Timezone == "" {
		c.Digest.Timezone = LocalZone()
	}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		f.URL = strings.TrimSpace(f.URL)
		f.Format = cmp.Or(f.Format, feeds.FormatAuto)
		f.Schedule = cmp.Or(f.Schedule, DefaultFeedSchedule)
	}
}

// loader carries the state of one Load.
type loader struct {
	name     string
	problems problems
	// origins maps keys ("smtp.port", "feeds[1]", "feeds[1].url") to where
	// their value was set.
	origins map[string]string
	// bad holds keys whose value was rejected while reading it.
	bad map[string]bool
}

// reject records a problem with the value of key found at source.
func (l *loader) reject(source, key, format string, args ...any) {
	l.problems.addAt(source, key, format, args...)
	l.bad[key] = true
}

// reported reports whether key, or a key enclosing it, was rejected.
func (l *loader) reported(key string) bool {
	return l.bad[enclosing(key, func(k string) bool { return l.bad[k] })]
}

// origin returns where key, or the nearest enclosing key that has a
// recorded origin ("feeds[2]" for "feeds[2].format"), was set.
func (l *loader) origin(key string) string {
	return l.origins[enclosing(key, func(k string) bool { return l.origins[k] != "" })]
}

// enclosing returns key or the nearest key enclosing it ("feeds[2]" and
// "feeds" enclose "feeds[2].format") for which has is true, else "".
func enclosing(key string, has func(string) bool) string {
	for key != "" && !has(key) {
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			return ""
		}
		key = key[:i]
	}
	return key
}

func (l *loader) pos(n *yaml.Node) string {
	return cmp.Or(l.name, "config") + ":" + strconv.Itoa(n.Line)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// file decodes the YAML document in data onto c. Syntax errors end
// loading and are returned; problems with keys and values are collected.
func (l *loader) file(data []byte, c *Config) error {
	// The document is walked node by node rather than decoded with
	// KnownFields: that way every unknown key is reported with its full
	// path, its line and a suggestion, durations accept days, and all
	// problems are collected instead of stopping at the first.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file or only comments
		}
		return l.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.problems.addAt(l.pos(&extra), "", "the file holds more than one YAML document; papermail reads one")
	} else if !errors.Is(err, io.EOF) {
		return l.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := resolve(doc.Content[0])
	switch {
	case root == nil || isNull(root):
		return nil
	case root.Kind != yaml.MappingNode:
		l.problems.addAt(l.pos(root), "", "the file must be a mapping of keys such as \"smtp:\" and \"digest:\", found %s", describe(root))
		return l.problems.err()
	}
	l.mapping(root, reflect.ValueOf(c).Elem(), "")
	return nil
}

func (l *loader) syntaxError(err error) error {
	msg := err.Error()
	src := cmp.Or(l.name, "config")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		src += ":" + m[1]
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.problems.addAt(src, "", "YAML syntax error: %s", msg)
	return l.problems.err()
}

// maxAliasDepth bounds alias chains; a document cannot legitimately need more.
const maxAliasDepth = 64

// resolve follows aliases to the node they name; nil for a broken chain.
func resolve(n *yaml.Node) *yaml.Node {
	for range maxAliasDepth {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's shape for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing usable"
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// mapping decodes the mapping node n onto the struct v whose keys live
// under prefix.
func (l *loader) mapping(n *yaml.Node, v reflect.Value, prefix string) {
	ft := fieldsOf(v.Type())
	// Merge keys ("<<: *base") first, so explicit keys override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() != "!!merge" {
			continue
		}
		src := resolve(n.Content[i+1])
		var maps []*yaml.Node
		switch {
		case src == nil:
		case src.Kind == yaml.MappingNode:
			maps = []*yaml.Node{src}
		case src.Kind == yaml.SequenceNode:
			for _, m := range src.Content {
				maps = append(maps, resolve(m))
			}
		}
		for _, m := range maps {
			if m == nil || m.Kind != yaml.MappingNode {
				l.problems.addAt(l.pos(n.Content[i]), "", "merge key \"<<\" under %q must name a mapping", prefix)
				continue
			}
			l.mapping(m, v, prefix)
		}
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || val == nil {
			l.problems.addAt(l.pos(n.Content[i]), "", "alias under %q leads nowhere", prefix)
			continue
		}
		if k.ShortTag() == "!!merge" {
			continue
		}
		full := join(prefix, k.Value)
		if k.Kind != yaml.ScalarNode {
			l.problems.addAt(l.pos(k), "", "keys must be plain names, found %s under %q", describe(k), prefix)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.problems.addAt(l.pos(k), "", "key %q appears twice (first on line %d)", full, first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := ft.index[k.Value]
		if !ok {
			l.problems.addAt(l.pos(k), "", "unknown key %q%s", full, didYouMean(prefix, k.Value, ft.names))
			continue
		}
		l.value(k, val, v.Field(idx), full)
	}
}

// didYouMean suggests a sibling key, or a key of the same name in another
// section.
func didYouMean(prefix, key string, siblings []string) string {
	if s := closest(key, siblings); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", join(prefix, s))
	}
	var found string
	for _, l := range leaves() {
		if l.key[strings.LastIndexByte(l.key, '.')+1:] == key {
			if found != "" {
				return "" // ambiguous
			}
			found = l.key
		}
	}
	if found != "" {
		return fmt.Sprintf(" (did you mean %q?)", found)
	}
	return ""
}

// value decodes val (the value of key node k) into the field v.
func (l *loader) value(k, val *yaml.Node, v reflect.Value, key string) {
	if isNull(val) {
		return // "key:" with nothing after it keeps the default
	}
	switch v.Kind() {
	case reflect.Struct:
		if val.Kind != yaml.MappingNode {
			l.reject(l.pos(val), key, "want a mapping of keys, found %s", describe(val))
			return
		}
		l.mapping(val, v, key)
	case reflect.Slice:
		if val.Kind != yaml.SequenceNode {
			l.reject(l.pos(val), key, "want a list (lines starting with \"- \"), found %s", describe(val))
			return
		}
		l.origins[key] = l.pos(k)
		s := reflect.MakeSlice(v.Type(), len(val.Content), len(val.Content))
		for i, item := range val.Content {
			ik := fmt.Sprintf("%s[%d]", key, i)
			at := item
			if item = resolve(item); item != nil {
				at = item
			}
			l.origins[ik] = l.pos(at)
			feed, isFeed := reflect.TypeAssert[*Feed](s.Index(i).Addr())
			switch {
			case item != nil && item.Kind == yaml.MappingNode:
				l.mapping(item, s.Index(i), ik)
			case item != nil && item.Kind == yaml.ScalarNode && isFeed:
				// "- https://..." is shorthand for "- url: https://...".
				feed.URL = item.Value
			case item != nil && item.Kind == yaml.ScalarNode && s.Index(i).Kind() == reflect.String:
				s.Index(i).SetString(item.Value) // a list of strings (metrics.allow)
			default:
				l.reject(l.pos(at), ik, "want a mapping with keys such as \"url:\", found %s", describe(at))
			}
		}
		v.Set(s)
	default:
		if val.Kind != yaml.ScalarNode {
			l.reject(l.pos(val), key, "want a single value, found %s", describe(val))
			return
		}
		if err := setScalar(v, val.Value); err != nil {
			l.reject(l.pos(val), key, "%s", err.Error())
			return
		}
		l.origins[key] = l.pos(val)
	}
}
