package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// parseEnviron turns "KEY=value" entries into a map of the PAPERMAIL_*
// ones. As with os.Getenv, the first entry for a name wins.
func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envPrefix) {
			continue
		}
		if _, dup := env[k]; !dup {
			env[k] = v
		}
	}
	return env
}

// envNames lists every variable Load understands, for suggestions.
func envNames() []string {
	ls := leaves()
	names := make([]string, 0, len(ls)+2)
	for _, l := range ls {
		names = append(names, l.env)
	}
	return append(names, EnvConfig, EnvFeeds, EnvMetricsAllow, EnvTrustedProxies)
}

// env overlays the PAPERMAIL_* variables onto c and returns warnings for
// variables it does not know. A variable that is set wins even when empty.
func (l *loader) env(env map[string]string, c *Config) []string {
	v := reflect.ValueOf(c).Elem()
	known := make(map[string]bool, len(env))
	for _, lf := range leaves() {
		s, ok := env[lf.env]
		if !ok {
			continue
		}
		known[lf.env] = true
		if err := setScalar(v.FieldByIndex(lf.index), s); err != nil {
			l.reject(lf.env, lf.key, "%s", err.Error())
			continue
		}
		l.origins[lf.key] = lf.env
	}
	known[EnvConfig] = true
	if envList(env, EnvMetricsAllow, &c.Metrics.Allow) {
		known[EnvMetricsAllow] = true
		l.origins["metrics.allow"] = EnvMetricsAllow
	}
	if envList(env, EnvTrustedProxies, &c.HTTP.TrustedProxies) {
		known[EnvTrustedProxies] = true
		l.origins["http.trusted_proxies"] = EnvTrustedProxies
	}
	if s, ok := env[EnvFeeds]; ok {
		known[EnvFeeds] = true
		for k := range l.origins {
			if strings.HasPrefix(k, "feeds[") {
				delete(l.origins, k)
			}
		}
		for k := range l.bad {
			if strings.HasPrefix(k, "feeds") {
				delete(l.bad, k) // the file's list is replaced; its problems stay reported
			}
		}
		l.origins["feeds"] = EnvFeeds
		c.Feeds = nil
		for u := range strings.SplitSeq(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.Feeds = append(c.Feeds, Feed{URL: u})
			}
		}
	}
	var warnings []string
	for name := range env {
		if known[name] {
			continue
		}
		w := fmt.Sprintf("unknown environment variable %s is ignored", name)
		if s := closestEnv(name); s != "" {
			w += fmt.Sprintf(" (did you mean %s?)", s)
		}
		warnings = append(warnings, w)
	}
	slices.Sort(warnings)
	return warnings
}

// closestEnv suggests the known variable nearest to name, comparing the
// parts after the common prefix.
func closestEnv(name string) string {
	names := envNames()
	suffixes := make([]string, len(names))
	for i, n := range names {
		suffixes[i] = strings.TrimPrefix(n, envPrefix)
	}
	s := closest(strings.TrimPrefix(name, envPrefix), suffixes)
	if s == "" {
		return ""
	}
	return envPrefix + s
}
