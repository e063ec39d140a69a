package preflight

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// SamConfig is what SAM's configuration file (samconfig.toml) says for a
// deploy.
type SamConfig struct {
	Region, StackName  string
	ParameterOverrides map[string]string
	// Deploy is the deploy command's own section, as read (other keys
	// included), for checks of what the file holds.
	Deploy, Build, Global map[string]any
}

// ReadSamConfig reads SAM's configuration file (version 0.1) for
// environment env: the deploy command's parameters over the global ones.
// A missing file is no configuration.
func ReadSamConfig(path, env string) (SamConfig, error) {
	saved := SamConfig{ParameterOverrides: map[string]string{}}
	if path == "" {
		return saved, nil
	}
	var doc map[string]any
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return saved, nil
		}
		return saved, err
	}
	section := func(keys ...string) map[string]any {
		m := doc
		for _, k := range keys {
			next, _ := m[k].(map[string]any)
			if next == nil {
				return nil
			}
			m = next
		}
		return m
	}
	saved.Global, saved.Build, saved.Deploy = section(env, "global", "parameters"), section(env, "build", "parameters"), section(env, "deploy", "parameters")
	for _, cmd := range []string{"global", "deploy"} {
		p := section(env, cmd, "parameters")
		if s, ok := p["region"].(string); ok {
			saved.Region = s
		}
		if s, ok := p["stack_name"].(string); ok {
			saved.StackName = s
		}
		var items []string
		switch v := p["parameter_overrides"].(type) {
		case string:
			items = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					items = append(items, s)
				}
			}
		}
		for _, item := range items {
			kv, err := ParseOverrides(item)
			if err != nil {
				return saved, fmt.Errorf("parameter_overrides: %w", err)
			}
			for k, v := range kv {
				saved.ParameterOverrides[k] = v
			}
		}
	}
	return saved, nil
}

// overrideToken is one Name=Value of SAM's space-separated
// parameter_overrides, the value bare or in double or single quotes.
var overrideToken = regexp.MustCompile(`^\s*([A-Za-z0-9]+)=("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|(?:\\.|[^\s"'\\])*)`)

// ParseOverrides reads SAM's parameter_overrides text: Name=Value pairs
// separated by spaces, values bare or quoted.
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for rest := s; strings.TrimSpace(rest) != ""; {
		m := overrideToken.FindStringSubmatch(rest)
		if m == nil {
			return nil, fmt.Errorf("%q is not Name=Value ...", strings.TrimSpace(rest))
		}
		v := m[2]
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[m[1]] = strings.NewReplacer(`\ `, " ", `\"`, `"`, `\'`, "'", `\\`, `\`).Replace(v)
		rest = rest[len(m[0]):]
	}
	return out, nil
}
