package main

import (
	"fmt"
	"strconv"
	"strings"
)

// mergeValues coalesces the chart's values with -f files (later wins) and then --set flags,
// as Helm does: maps merge key by key, anything else replaces, and null deletes a key.
func mergeValues(base map[string]interface{}, valueFiles, sets, setStrings []string) (map[string]interface{}, error) {
	out := deepCopy(base).(map[string]interface{})
	for _, file := range valueFiles {
		override := map[string]interface{}{}
		if err := readYAML(file, &override); err != nil {
			return nil, err
		}
		coalesce(out, override)
	}
	for _, set := range sets {
		if err := applySet(out, set, false); err != nil {
			return nil, err
		}
	}
	for _, set := range setStrings {
		if err := applySet(out, set, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func coalesce(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				coalesce(dm, sm)
				continue
			}
		}
		dst[k] = deepCopy(v)
	}
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	default:
		return v
	}
}

// applySet handles the common subset of Helm's --set syntax: comma-separated key.path=value
// pairs, `\,` and `\.` escapes, {a,b} lists; values typed as int, float, bool or null.
func applySet(values map[string]interface{}, expr string, asString bool) error {
	for _, pair := range splitUnescaped(expr, ',', true) {
		eq := strings.Index(pair, "=")
		if eq <= 0 {
			return fmt.Errorf("--set %q: expected key=value", pair)
		}
		path := splitUnescaped(pair[:eq], '.', false)
		raw := strings.ReplaceAll(pair[eq+1:], `\,`, ",")
		node := values
		for _, key := range path[:len(path)-1] {
			next, ok := node[key].(map[string]interface{})
			if !ok {
				next = map[string]interface{}{}
				node[key] = next
			}
			node = next
		}
		last := path[len(path)-1]
		value := typedValue(raw, asString)
		if value == nil {
			delete(node, last)
		} else {
			node[last] = value
		}
	}
	return nil
}

func typedValue(raw string, asString bool) interface{} {
	if asString {
		return raw
	}
	if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
		list := []interface{}{}
		if inner := raw[1 : len(raw)-1]; inner != "" {
			for _, item := range strings.Split(inner, ",") {
				list = append(list, typedValue(item, false))
			}
		}
		return list
	}
	switch raw {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if i, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return float64(i) // sigs.k8s.io/yaml decodes numbers as float64; stay consistent
	}
	return raw
}

// splitUnescaped splits on sep, honouring a backslash escape; inside {} lists commas do not split.
func splitUnescaped(s string, sep byte, braces bool) []string {
	var parts []string
	var cur strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == sep:
			if sep == ',' {
				cur.WriteString(`\,`)
			} else {
				cur.WriteByte(sep)
			}
			i++
		case braces && c == '{':
			depth++
			cur.WriteByte(c)
		case braces && c == '}':
			depth--
			cur.WriteByte(c)
		case c == sep && depth == 0:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}
