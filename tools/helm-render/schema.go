package main

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// validateSchema checks values against the chart's values.schema.json, as `helm template` does
// before rendering. It implements the JSON Schema (draft-07) keywords this repository's charts
// use: type, enum, const, properties, additionalProperties, required, items, min/maxItems,
// minimum, maximum, exclusiveMinimum, min/maxLength, pattern, anyOf, oneOf, allOf and local
// $ref. A keyword outside that list is an error, so a schema never silently checks less.
func validateSchema(schema interface{}, values interface{}) []string {
	v := &validator{root: schema}
	v.check(schema, values, "")
	sort.Strings(v.problems)
	return v.problems
}

type validator struct {
	root     interface{}
	problems []string
}

var knownKeywords = map[string]bool{
	"$schema": true, "$id": true, "$ref": true, "$comment": true, "title": true, "description": true,
	"default": true, "examples": true, "definitions": true, "$defs": true, "type": true, "enum": true,
	"const": true, "properties": true, "additionalProperties": true, "required": true, "items": true,
	"minItems": true, "maxItems": true, "minimum": true, "maximum": true, "exclusiveMinimum": true,
	"minLength": true, "maxLength": true, "pattern": true, "anyOf": true, "oneOf": true, "allOf": true,
	"uniqueItems": true, "format": true, "minProperties": true,
}

func (v *validator) fail(path, format string, args ...interface{}) {
	if path == "" {
		path = "(root)"
	}
	v.problems = append(v.problems, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) sub(schema, value interface{}, path string) []string {
	inner := &validator{root: v.root}
	inner.check(schema, value, path)
	return inner.problems
}

func (v *validator) check(schemaAny interface{}, value interface{}, path string) {
	if b, ok := schemaAny.(bool); ok {
		if !b {
			v.fail(path, "Additional property %s is not allowed", lastKey(path))
		}
		return
	}
	schema, ok := schemaAny.(map[string]interface{})
	if !ok {
		v.fail(path, "schema is not an object")
		return
	}
	for k := range schema {
		if !knownKeywords[k] {
			v.fail(path, "schema keyword %q is not supported by helm-render", k)
		}
	}
	if ref, ok := schema["$ref"].(string); ok {
		target, err := v.resolve(ref)
		if err != nil {
			v.fail(path, "%v", err)
			return
		}
		v.check(target, value, path)
	}
	if t, ok := schema["type"]; ok && !matchesType(t, value) {
		v.fail(path, "Invalid type. Expected: %s, given: %s", typeList(t), jsonType(value))
		return
	}
	if enum, ok := schema["enum"].([]interface{}); ok {
		found := false
		for _, e := range enum {
			if reflect.DeepEqual(e, value) {
				found = true
			}
		}
		if !found {
			v.fail(path, "must be one of the following: %s", joinJSON(enum))
		}
	}
	if c, ok := schema["const"]; ok && !reflect.DeepEqual(c, value) {
		v.fail(path, "does not match: %v", c)
	}
	switch val := value.(type) {
	case map[string]interface{}:
		v.checkObject(schema, val, path)
	case []interface{}:
		if items, ok := schema["items"]; ok {
			for i, item := range val {
				v.check(items, item, fmt.Sprintf("%s.%d", path, i))
			}
		}
		if n, ok := number(schema["minItems"]); ok && float64(len(val)) < n {
			v.fail(path, "Array must have at least %v items", n)
		}
		if n, ok := number(schema["maxItems"]); ok && float64(len(val)) > n {
			v.fail(path, "Array must have at most %v items", n)
		}
	case float64:
		if n, ok := number(schema["minimum"]); ok && val < n {
			v.fail(path, "Must be greater than or equal to %v", n)
		}
		if n, ok := number(schema["maximum"]); ok && val > n {
			v.fail(path, "Must be less than or equal to %v", n)
		}
		if n, ok := number(schema["exclusiveMinimum"]); ok && val <= n {
			v.fail(path, "Must be greater than %v", n)
		}
	case string:
		if n, ok := number(schema["minLength"]); ok && float64(len([]rune(val))) < n {
			v.fail(path, "String length must be greater than or equal to %v", n)
		}
		if n, ok := number(schema["maxLength"]); ok && float64(len([]rune(val))) > n {
			v.fail(path, "String length must be less than or equal to %v", n)
		}
		if p, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				v.fail(path, "bad pattern %q: %v", p, err)
			} else if !re.MatchString(val) {
				v.fail(path, "Does not match pattern '%s'", p)
			}
		}
	}
	if all, ok := schema["allOf"].([]interface{}); ok {
		for _, s := range all {
			v.check(s, value, path)
		}
	}
	if any, ok := schema["anyOf"].([]interface{}); ok {
		matched := 0
		var first []string
		for _, s := range any {
			if p := v.sub(s, value, path); len(p) == 0 {
				matched++
			} else if first == nil {
				first = p
			}
		}
		if matched == 0 {
			v.fail(path, "Must validate at least one schema (anyOf): %s", strings.Join(first, "; "))
		}
	}
	if one, ok := schema["oneOf"].([]interface{}); ok {
		matched := 0
		for _, s := range one {
			if len(v.sub(s, value, path)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			v.fail(path, "Must validate one and only one schema (oneOf), matched %d", matched)
		}
	}
}

func (v *validator) checkObject(schema map[string]interface{}, val map[string]interface{}, path string) {
	props, _ := schema["properties"].(map[string]interface{})
	if req, ok := schema["required"].([]interface{}); ok {
		for _, r := range req {
			if _, present := val[fmt.Sprint(r)]; !present {
				v.fail(path, "%s is required", r)
			}
		}
	}
	if n, ok := number(schema["minProperties"]); ok && float64(len(val)) < n {
		v.fail(path, "Must have at least %v properties", n)
	}
	for k, x := range val {
		child := k
		if path != "" {
			child = path + "." + k
		}
		if ps, ok := props[k]; ok {
			v.check(ps, x, child)
			continue
		}
		if ap, ok := schema["additionalProperties"]; ok {
			if b, isBool := ap.(bool); isBool && !b {
				v.fail(path, "Additional property %s is not allowed", k)
			} else if !isBool {
				v.check(ap, x, child)
			}
		}
	}
}

func (v *validator) resolve(ref string) (interface{}, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local $ref is supported, got %q", ref)
	}
	var node interface{} = v.root
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := node.(map[string]interface{})
		if !ok || m[part] == nil {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		node = m[part]
	}
	return node, nil
}

func matchesType(t interface{}, value interface{}) bool {
	switch tt := t.(type) {
	case string:
		return typeIs(tt, value)
	case []interface{}:
		for _, x := range tt {
			if typeIs(fmt.Sprint(x), value) {
				return true
			}
		}
	}
	return false
}

func typeIs(t string, value interface{}) bool {
	got := jsonType(value)
	return got == t || (t == "number" && got == "integer")
}

func jsonType(value interface{}) string {
	switch x := value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return "integer"
		}
		return "number"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", value)
}

func typeList(t interface{}) string {
	if list, ok := t.([]interface{}); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(t)
}

func number(x interface{}) (float64, bool) {
	f, ok := x.(float64)
	return f, ok
}

func joinJSON(list []interface{}) string {
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = fmt.Sprintf("%q", fmt.Sprint(x))
	}
	return strings.Join(parts, ", ")
}

func lastKey(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[i+1:]
	}
	return path
}
