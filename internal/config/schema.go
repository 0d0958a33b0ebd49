package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// envPrefix starts every environment variable papermail reads.
const envPrefix = "PAPERMAIL_"

// Environment variables that are not derived from a scalar key.
const (
	// EnvConfig names the configuration file when Load is given no path.
	EnvConfig = envPrefix + "CONFIG"
	// EnvFeeds replaces the feeds list with comma-separated URLs.
	EnvFeeds = envPrefix + "FEEDS"
)

var durationType = reflect.TypeFor[time.Duration]()

// leaf is one scalar key of Config.
type leaf struct {
	key   string // dotted yaml path: "smtp.port"
	env   string // PAPERMAIL_SMTP_PORT
	index []int  // reflect field index path from Config
}

// EnvName returns the environment variable for a dotted key:
// "smtp.host" -> "PAPERMAIL_SMTP_HOST".
func EnvName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// leaves lists every scalar key of Config in declaration order, derived
// from the yaml tags so new fields get keys and variables automatically.
var leaves = sync.OnceValue(func() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			key := prefix + name
			idx := append(append([]int(nil), index...), i)
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, key+".", idx)
			case reflect.Slice:
				// Lists (feeds) have their own variable.
			default:
				out = append(out, leaf{key: key, env: EnvName(key), index: idx})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
})

// Keys lists every scalar configuration key in dotted form, in the order
// Config declares them. The feeds list is not included.
func Keys() []string {
	ls := leaves()
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = l.key
	}
	return keys
}

// yamlName is the key of a struct field, "" for fields without one.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// fieldTable maps the keys of one struct type to field indexes.
type fieldTable struct {
	index map[string]int
	names []string // in declaration order, for suggestions
}

func fieldsOf(t reflect.Type) *fieldTable {
	ft := &fieldTable{index: make(map[string]int)}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			ft.index[name] = i
			ft.names = append(ft.names, name)
		}
	}
	return ft
}

// setScalar parses s into the scalar field v. The error message says what
// was wanted and what was given; it does not name the key.
func setScalar(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	t := strings.TrimSpace(s)
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", s)
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("want a number, got %q", s)
		}
		v.SetFloat(f)
	case reflect.Bool:
		switch strings.ToLower(t) {
		case "true", "yes", "on", "1":
			v.SetBool(true)
		case "false", "no", "off", "0":
			v.SetBool(false)
		default:
			return fmt.Errorf("want true or false, got %q", s)
		}
	default:
		return fmt.Errorf("unsupported field type %s", v.Type())
	}
	return nil
}
