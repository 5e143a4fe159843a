// Package ciconfig reads .gitlab-ci.yml as GitLab 8.7's
// Ci::GitlabCiYamlProcessor did (doc/ci/yaml/README.md at 8.7, and
// shared/reference/ci-config.md for where the code and the docs differ):
// the same keys, defaults, validation order and messages, and the same
// only/except matching.
package ciconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a validation failure with 8.7's message; only the first one is
// reported, as 8.7 did.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// UndefinedError is the text 8.7 stored for any failure that was neither a
// validation message nor a YAML syntax error (cache given as a list, for
// one).
const UndefinedError = "Undefined error"

// Config is a valid .gitlab-ci.yml.
type Config struct {
	Stages []string
	// Jobs in file order; hidden jobs (.name) are left out.
	Jobs []Job
	// Variables are the global variables, in file order.
	Variables []Variable
}

// Variable is one key of a `variables` map.
type Variable struct {
	Key, Value string
}

// Job is one job, defaults applied.
type Job struct {
	Name     string
	Stage    string
	StageIdx int
	// Commands is before_script (the job's, else the global one) followed
	// by script, joined with "\n".
	Commands     string
	Tags         []string
	AllowFailure bool
	// When is on_success, on_failure or always.
	When   string
	Only   []string
	Except []string
	// Options is what the runner gets: image, services, cache, after_script
	// (the job's, else the global value), artifacts and dependencies (the
	// job's only); absent keys are left out.
	Options map[string]any
	// Variables are the job's own variables, in file order.
	Variables []Variable
}

// OptionsJSON is the job's options as stored for the runner.
func (j *Job) OptionsJSON() string {
	b, err := json.Marshal(j.Options)
	if err != nil { // values come from YAML decoding: always encodable
		return "{}"
	}
	return string(b)
}

var globalKeys = map[string]bool{
	"before_script": true, "after_script": true, "image": true, "services": true,
	"types": true, "stages": true, "variables": true, "cache": true,
}

var jobKeys = map[string]bool{
	"tags": true, "script": true, "only": true, "except": true, "type": true, "image": true,
	"services": true, "allow_failure": true, "stage": true, "when": true, "artifacts": true,
	"cache": true, "dependencies": true, "before_script": true, "after_script": true, "variables": true,
}

// DefaultStages are the stages when the file names none.
var DefaultStages = []string{"build", "test", "deploy"}

// Parse reads and validates a .gitlab-ci.yml. The error is an *Error with
// 8.7's message, a YAML syntax error (the parser's message), or one whose
// text is UndefinedError.
func Parse(content string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		return nil, err
	}
	yaml11Bools(&doc, false)
	var root any
	if len(doc.Content) > 0 {
		if err := doc.Decode(&root); err != nil {
			return nil, errors.New(UndefinedError)
		}
	}
	top, ok := asMap(root)
	if !ok {
		return nil, &Error{"YAML should be a hash"}
	}
	order := keyOrder(&doc, top)

	// 8.7's initial parsing: every key that is neither global nor hidden
	// must be a job (a map with script), before any other check.
	p := &parser{top: top, stageOf: map[string]string{}}
	var names []string
	for _, name := range order {
		if globalKeys[name] || strings.HasPrefix(name, ".") {
			continue
		}
		m, ok := asMap(top[name])
		if !ok || !hasKey(m, "script") {
			return nil, &Error{"Unknown parameter: " + name}
		}
		names = append(names, name)
		p.stageOf[name] = jobStage(m)
	}
	if len(names) == 0 {
		return nil, &Error{"Please define at least one job"}
	}
	if err := p.validateGlobal(); err != nil {
		return nil, err
	}
	cfg := &Config{Stages: p.stages(), Variables: variables(top["variables"])}
	for _, name := range names {
		job, err := p.job(name, cfg.Stages)
		if err != nil {
			return nil, err
		}
		cfg.Jobs = append(cfg.Jobs, *job)
	}
	return cfg, nil
}

// jobStage is the job's stage: stage, else type, else test.
func jobStage(m map[string]any) string {
	if v := firstTruthy(m["stage"], m["type"]); v != nil {
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	return "test"
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}

// yaml11Bools reads the YAML 1.1 booleans Ruby's Psych read (yes, no,
// on, off in any case, unquoted) as booleans, where yaml.v3 reads them as
// strings; mapping keys are left as they are.
func yaml11Bools(n *yaml.Node, isKey bool) {
	if n.Kind == yaml.ScalarNode && !isKey && n.Style == 0 && n.Tag == "!!str" {
		switch strings.ToLower(n.Value) {
		case "yes", "on":
			n.Tag, n.Value = "!!bool", "true"
		case "no", "off":
			n.Tag, n.Value = "!!bool", "false"
		}
	}
	for i, c := range n.Content {
		yaml11Bools(c, n.Kind == yaml.MappingNode && i%2 == 0)
	}
}

type parser struct {
	top     map[string]any
	stageOf map[string]string
}

// keyOrder lists the document's top-level keys in file order (keys that a
// `<<` merge brought in come after, sorted).
func keyOrder(doc *yaml.Node, top map[string]any) []string {
	var order []string
	seen := map[string]bool{}
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, ok := top[k]; ok && !seen[k] {
				order = append(order, k)
				seen[k] = true
			}
		}
	}
	var rest []string
	for k := range top {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// asMap accepts a mapping (string keys, or keys printed as strings, as
// 8.7 symbolised them).
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}

// truthy is Ruby's: everything but nil and false.
func truthy(v any) bool {
	if v == nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return true
}

func isStringList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func isVariables(v any) bool {
	m, ok := asMap(v)
	if !ok {
		return false
	}
	for _, val := range m {
		if _, ok := val.(string); !ok {
			return false
		}
	}
	return true
}

// variables lists a variables map sorted by key (a decoded map has lost
// the file order).
func variables(v any) []Variable {
	m, ok := asMap(v)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Variable, 0, len(keys))
	for _, k := range keys {
		s, _ := m[k].(string)
		out = append(out, Variable{Key: k, Value: s})
	}
	return out
}

func (p *parser) validateGlobal() error {
	t := p.top
	if !isStringList(t["before_script"]) && t["before_script"] != nil {
		return &Error{"before_script should be an array of strings"}
	}
	if v := t["after_script"]; truthy(v) && !isStringList(v) {
		return &Error{"after_script should be an array of strings"}
	}
	if v := t["image"]; truthy(v) {
		if _, ok := v.(string); !ok {
			return &Error{"image should be a string"}
		}
	}
	if v := t["services"]; truthy(v) && !isStringList(v) {
		return &Error{"services should be an array of strings"}
	}
	if v := p.stagesValue(); truthy(v) && !isStringList(v) {
		return &Error{"stages should be an array of strings"}
	}
	if v := t["variables"]; truthy(v) && !isVariables(v) {
		return &Error{"variables should be a map of key-value strings"}
	}
	if v := t["cache"]; truthy(v) {
		if err := validateCache("", v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) stagesValue() any {
	if v := p.top["stages"]; v != nil {
		return v
	}
	return p.top["types"]
}

func (p *parser) stages() []string {
	if v := p.stagesValue(); v != nil {
		return stringList(v)
	}
	return DefaultStages
}

// validateCache checks cache's three known keys; a cache that is not a map
// failed in 8.7 with an exception, stored as UndefinedError.
func validateCache(prefix string, v any) error {
	m, ok := asMap(v)
	if !ok {
		return errors.New(UndefinedError)
	}
	if k := m["key"]; truthy(k) {
		if _, ok := k.(string); !ok {
			return &Error{prefix + "cache:key parameter should be a string"}
		}
	}
	if u := m["untracked"]; truthy(u) || u == false {
		if _, ok := u.(bool); !ok {
			return &Error{prefix + "cache:untracked parameter should be an boolean"}
		}
	}
	if ps := m["paths"]; truthy(ps) && !isStringList(ps) {
		return &Error{prefix + "cache:paths parameter should be an array of strings"}
	}
	return nil
}

func validateArtifacts(prefix string, v any) error {
	m, ok := asMap(v)
	if !ok {
		return errors.New(UndefinedError)
	}
	if n := m["name"]; truthy(n) {
		if _, ok := n.(string); !ok {
			return &Error{prefix + "artifacts:name parameter should be a string"}
		}
	}
	if u := m["untracked"]; truthy(u) || u == false {
		if _, ok := u.(bool); !ok {
			return &Error{prefix + "artifacts:untracked parameter should be an boolean"}
		}
	}
	if ps := m["paths"]; truthy(ps) && !isStringList(ps) {
		return &Error{prefix + "artifacts:paths parameter should be an array of strings"}
	}
	return nil
}

// job validates one job in 8.7's order and applies the defaults.
func (p *parser) job(name string, stages []string) (*Job, error) {
	if name == "" {
		return nil, &Error{"job name should be non-empty string"}
	}
	m, _ := asMap(p.top[name])
	pre := name + " job: "
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !jobKeys[k] {
			return nil, &Error{pre + "unknown parameter " + k}
		}
	}
	if v := m["image"]; truthy(v) {
		if _, ok := v.(string); !ok {
			return nil, &Error{pre + "image should be a string"}
		}
	}
	if v := m["services"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "services should be an array of strings"}
	}
	if v := m["tags"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "tags parameter should be an array of strings"}
	}
	if v := m["only"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "only parameter should be an array of strings"}
	}
	if v := m["except"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "except parameter should be an array of strings"}
	}
	if v := m["allow_failure"]; truthy(v) {
		if _, ok := v.(bool); !ok {
			return nil, &Error{pre + "allow_failure parameter should be an boolean"}
		}
	}
	if v := m["when"]; truthy(v) {
		if s, _ := v.(string); s != "on_success" && s != "on_failure" && s != "always" {
			return nil, &Error{pre + "when parameter should be on_success, on_failure or always"}
		}
	}
	script := m["script"]
	if _, ok := script.(string); !ok && !isStringList(script) {
		return nil, &Error{pre + "script should be a string or an array of a strings"}
	}
	if v := m["before_script"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "before_script should be an array of strings"}
	}
	if v := m["after_script"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "after_script should be an array of strings"}
	}
	stage := jobStage(m)
	idx := indexOf(stages, stage)
	if idx < 0 {
		return nil, &Error{pre + "stage parameter should be " + strings.Join(stages, ", ")}
	}
	if v := m["variables"]; truthy(v) && !isVariables(v) {
		return nil, &Error{pre + "variables should be a map of key-value strings"}
	}
	if v := m["cache"]; truthy(v) {
		if err := validateCache(pre, v); err != nil {
			return nil, err
		}
	}
	if v := m["artifacts"]; truthy(v) {
		if err := validateArtifacts(pre, v); err != nil {
			return nil, err
		}
	}
	if v := m["dependencies"]; truthy(v) && !isStringList(v) {
		return nil, &Error{pre + "dependencies parameter should be an array of strings"}
	}
	for _, dep := range stringList(m["dependencies"]) {
		depStage, ok := p.stageOf[dep]
		if !ok {
			return nil, &Error{pre + "undefined dependency: " + dep}
		}
		if indexOf(stages, depStage) >= idx {
			return nil, &Error{pre + "dependency " + dep + " is not defined in prior stages"}
		}
	}

	j := &Job{Name: name, Stage: stage, StageIdx: idx, When: "on_success",
		Tags: stringList(m["tags"]), Only: stringList(m["only"]), Except: stringList(m["except"]),
		Variables: variables(m["variables"]), Options: map[string]any{}}
	if b, ok := m["allow_failure"].(bool); ok {
		j.AllowFailure = b
	}
	if s, ok := m["when"].(string); ok {
		j.When = s
	}
	var lines []string
	if v, ok := m["before_script"]; ok && v != nil {
		lines = stringList(v)
	} else {
		lines = stringList(p.top["before_script"])
	}
	if s, ok := script.(string); ok {
		lines = append(lines, s)
	} else {
		lines = append(lines, stringList(script)...)
	}
	j.Commands = strings.Join(lines, "\n")
	for _, k := range []string{"image", "services", "cache", "after_script"} {
		if v := firstNonNil(m[k], p.top[k]); v != nil {
			j.Options[k] = jsonable(v)
		}
	}
	for _, k := range []string{"artifacts", "dependencies"} {
		if v := m[k]; v != nil {
			j.Options[k] = jsonable(v)
		}
	}
	return j, nil
}

func firstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func firstTruthy(vs ...any) any {
	for _, v := range vs {
		if truthy(v) {
			return v
		}
	}
	return nil
}

// jsonable turns decoded YAML into values encoding/json takes.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// Ref is what a job's only/except patterns are matched against.
type Ref struct {
	// Name is the short ref name (no refs/heads/ or refs/tags/).
	Name      string
	Tag       bool
	Triggered bool
	// ProjectPath is the project's namespace/path.
	ProjectPath string
}

// Matches tells whether the job runs for ref, as 8.7's only/except did.
func (j *Job) Matches(ref Ref) bool {
	if len(j.Only) > 0 && !anyMatch(j.Only, ref) {
		return false
	}
	if len(j.Except) > 0 && anyMatch(j.Except, ref) {
		return false
	}
	return true
}

func anyMatch(patterns []string, ref Ref) bool {
	for _, p := range patterns {
		if matchRef(p, ref) {
			return true
		}
	}
	return false
}

func matchRef(pattern string, ref Ref) bool {
	pat, path, hasPath := strings.Cut(pattern, "@")
	if hasPath && path != ref.ProjectPath {
		return false
	}
	switch {
	case pat == "tags":
		return ref.Tag
	case pat == "branches":
		return !ref.Tag
	case pat == "triggers":
		return ref.Triggered
	case len(pat) > 1 && strings.HasPrefix(pat, "/") && strings.HasSuffix(pat, "/"):
		re, err := regexp.Compile(pat[1 : len(pat)-1])
		return err == nil && re.MatchString(ref.Name)
	}
	return pat == ref.Name
}
