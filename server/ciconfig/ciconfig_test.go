package ciconfig

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "YAML should be a hash"},
		{"list", "- a\n- b\n", "YAML should be a hash"},
		{"scalar", "hello", "YAML should be a hash"},
		{"no jobs", "image: ruby\n", "Please define at least one job"},
		{"only hidden jobs", ".hidden:\n  script: x\n", "Please define at least one job"},
		{"unknown key", "imagee: ruby\nrspec:\n  script: x\n", "Unknown parameter: imagee"},
		{"job without script", "rspec:\n  stage: test\n", "Unknown parameter: rspec"},
		{"job not a map", "rspec: run\n", "Unknown parameter: rspec"},
		{"unknown before global", "before_script: make\nbad: 1\nrspec:\n  script: x\n", "Unknown parameter: bad"},
		{"before_script string", "before_script: make\nrspec:\n  script: x\n", "before_script should be an array of strings"},
		{"after_script string", "after_script: make\nrspec:\n  script: x\n", "after_script should be an array of strings"},
		{"image list", "image: [a]\nrspec:\n  script: x\n", "image should be a string"},
		{"services string", "services: mysql\nrspec:\n  script: x\n", "services should be an array of strings"},
		{"stages string", "stages: build\nrspec:\n  script: x\n", "stages should be an array of strings"},
		{"types numbers", "types: [1]\nrspec:\n  script: x\n", "stages should be an array of strings"},
		{"variables number", "variables:\n  PORT: 5432\nrspec:\n  script: x\n", "variables should be a map of key-value strings"},
		{"cache key", "cache:\n  key: [a]\nrspec:\n  script: x\n", "cache:key parameter should be a string"},
		{"cache untracked", "cache:\n  untracked: yes please\nrspec:\n  script: x\n", "cache:untracked parameter should be an boolean"},
		{"cache paths", "cache:\n  paths: vendor\nrspec:\n  script: x\n", "cache:paths parameter should be an array of strings"},
		{"cache list", "cache: [vendor]\nrspec:\n  script: x\n", "Undefined error"},
		{"job unknown parameter", "rspec:\n  script: x\n  coverage: /x/\n", "rspec job: unknown parameter coverage"},
		{"job image", "rspec:\n  script: x\n  image: [a]\n", "rspec job: image should be a string"},
		{"job services", "rspec:\n  script: x\n  services: mysql\n", "rspec job: services should be an array of strings"},
		{"job tags", "rspec:\n  script: x\n  tags: ruby\n", "rspec job: tags parameter should be an array of strings"},
		{"job only", "rspec:\n  script: x\n  only: master\n", "rspec job: only parameter should be an array of strings"},
		{"job only map", "rspec:\n  script: x\n  only:\n    refs: [master]\n", "rspec job: only parameter should be an array of strings"},
		{"job except", "rspec:\n  script: x\n  except: [1]\n", "rspec job: except parameter should be an array of strings"},
		{"job allow_failure", "rspec:\n  script: x\n  allow_failure: maybe\n", "rspec job: allow_failure parameter should be an boolean"},
		{"job when manual", "rspec:\n  script: x\n  when: manual\n", "rspec job: when parameter should be on_success, on_failure or always"},
		{"job script null", "rspec:\n  script:\n", "rspec job: script should be a string or an array of a strings"},
		{"job script map", "rspec:\n  script:\n    a: b\n", "rspec job: script should be a string or an array of a strings"},
		{"job before_script", "rspec:\n  script: x\n  before_script: make\n", "rspec job: before_script should be an array of strings"},
		{"job after_script", "rspec:\n  script: x\n  after_script: make\n", "rspec job: after_script should be an array of strings"},
		{"job stage", "rspec:\n  script: x\n  stage: lint\n", "rspec job: stage parameter should be build, test, deploy"},
		{"custom stages without test", "stages: [one, two]\nrspec:\n  script: x\n", "rspec job: stage parameter should be one, two"},
		{"job variables", "rspec:\n  script: x\n  variables: [a]\n", "rspec job: variables should be a map of key-value strings"},
		{"job cache paths", "rspec:\n  script: x\n  cache:\n    paths: a\n", "rspec job: cache:paths parameter should be an array of strings"},
		{"job artifacts name", "rspec:\n  script: x\n  artifacts:\n    name: [a]\n", "rspec job: artifacts:name parameter should be a string"},
		{"job artifacts untracked", "rspec:\n  script: x\n  artifacts:\n    untracked: x\n", "rspec job: artifacts:untracked parameter should be an boolean"},
		{"job artifacts paths", "rspec:\n  script: x\n  artifacts:\n    paths: a\n", "rspec job: artifacts:paths parameter should be an array of strings"},
		{"job dependencies string", "rspec:\n  script: x\n  dependencies: build\n", "rspec job: dependencies parameter should be an array of strings"},
		{"undefined dependency", "rspec:\n  script: x\n  dependencies: [nope]\n", "rspec job: undefined dependency: nope"},
		{"hidden dependency", ".tpl:\n  script: x\nrspec:\n  script: x\n  dependencies: [.tpl]\n", "rspec job: undefined dependency: .tpl"},
		{"dependency same stage", "a:\n  script: x\nrspec:\n  script: x\n  dependencies: [a]\n", "rspec job: dependency a is not defined in prior stages"},
		{"dependency later stage", "a:\n  script: x\n  stage: deploy\nrspec:\n  script: x\n  dependencies: [a]\n", "rspec job: dependency a is not defined in prior stages"},
		{"first failing job wins", "a:\n  script: x\n  tags: t\nb:\n  script: x\n  only: m\n", "a job: tags parameter should be an array of strings"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.yaml)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse("rspec:\n  script: [x\n")
	if err == nil || !strings.Contains(err.Error(), "yaml") {
		t.Errorf("Parse = %v, want the YAML parser's error", err)
	}
}

func TestParseJobs(t *testing.T) {
	cfg, err := Parse(`
image: ruby:2.1
services: [postgres]
before_script:
  - bundle install
after_script: [cleanup]
variables:
  DB: postgres
  A: one
cache:
  paths: [vendor/]
stages: [build, test, deploy]
.template: &tpl
  script: [make]
  tags: [docker]
compile:
  <<: *tpl
  stage: build
  artifacts:
    name: bin
    paths: [out/]
    expire_in: 1 week
rspec:
  type: test
  script: rake spec
  before_script: []
  image: ruby:2.3
  allow_failure: true
  when: always
  variables:
    RAILS_ENV: test
  dependencies: [compile]
  only: [master, /^release-.*$/, tags]
  except: [triggers]
deploy:
  stage: deploy
  script: [deploy]
  cache:
    key: k
  only: [branches@group/project]
`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Stages, []string{"build", "test", "deploy"}) {
		t.Errorf("stages = %v", cfg.Stages)
	}
	if want := []Variable{{"A", "one"}, {"DB", "postgres"}}; !reflect.DeepEqual(cfg.Variables, want) {
		t.Errorf("variables = %v", cfg.Variables)
	}
	if len(cfg.Jobs) != 3 {
		t.Fatalf("jobs = %+v", cfg.Jobs)
	}
	c, r, d := cfg.Jobs[0], cfg.Jobs[1], cfg.Jobs[2]
	if c.Name != "compile" || c.Stage != "build" || c.StageIdx != 0 || c.Commands != "bundle install\nmake" ||
		!reflect.DeepEqual(c.Tags, []string{"docker"}) || c.When != "on_success" || c.AllowFailure {
		t.Errorf("compile = %+v", c)
	}
	wantJSON(t, c.OptionsJSON(), `{"after_script":["cleanup"],"artifacts":{"expire_in":"1 week","name":"bin","paths":["out/"]},"cache":{"paths":["vendor/"]},"image":"ruby:2.1","services":["postgres"]}`)
	if r.Name != "rspec" || r.Stage != "test" || r.StageIdx != 1 || r.Commands != "rake spec" || !r.AllowFailure ||
		r.When != "always" || !reflect.DeepEqual(r.Variables, []Variable{{"RAILS_ENV", "test"}}) {
		t.Errorf("rspec = %+v", r)
	}
	wantJSON(t, r.OptionsJSON(), `{"after_script":["cleanup"],"cache":{"paths":["vendor/"]},"dependencies":["compile"],"image":"ruby:2.3","services":["postgres"]}`)
	if d.Stage != "deploy" || d.StageIdx != 2 {
		t.Errorf("deploy = %+v", d)
	}
	wantJSON(t, d.OptionsJSON(), `{"after_script":["cleanup"],"cache":{"key":"k"},"image":"ruby:2.1","services":["postgres"]}`)

	for _, tt := range []struct {
		name string
		job  Job
		ref  Ref
		want bool
	}{
		{"no only", c, Ref{Name: "feature"}, true},
		{"only name", r, Ref{Name: "master"}, true},
		{"only regexp", r, Ref{Name: "release-1.0"}, true},
		{"regexp unanchored miss", r, Ref{Name: "x-release-1"}, false},
		{"only tags", r, Ref{Name: "v1.0", Tag: true}, true},
		{"other branch", r, Ref{Name: "feature"}, false},
		{"except triggers", r, Ref{Name: "master", Triggered: true}, false},
		{"branches of this project", d, Ref{Name: "feature", ProjectPath: "group/project"}, true},
		{"branches of another project", d, Ref{Name: "feature", ProjectPath: "fork/project"}, false},
		{"branches not tags", d, Ref{Name: "v1", Tag: true, ProjectPath: "group/project"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.job.Matches(tt.ref); got != tt.want {
				t.Errorf("Matches(%+v) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func TestYAML11Booleans(t *testing.T) {
	cfg, err := Parse("rspec:\n  script: [x, 'yes']\n  allow_failure: yes\n  artifacts:\n    untracked: On\n")
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.Jobs[0]
	if !j.AllowFailure || j.Commands != "x\nyes" {
		t.Errorf("job = %+v", j)
	}
	wantJSON(t, j.OptionsJSON(), `{"artifacts":{"untracked":true}}`)
	if _, err := Parse("rspec:\n  script: [x]\n  only: [on]\n"); err == nil || err.Error() != "rspec job: only parameter should be an array of strings" {
		t.Errorf("only: [on] = %v, want the only message (a boolean is no string)", err)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse("types: [lint, test]\nrspec:\n  script: [a, b]\n  tags: false\n  only:\n")
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.Jobs[0]
	if j.Stage != "test" || j.StageIdx != 1 || j.Commands != "a\nb" || j.When != "on_success" || len(j.Only) != 0 {
		t.Errorf("job = %+v", j)
	}
	wantJSON(t, j.OptionsJSON(), `{}`)
	if !j.Matches(Ref{Name: "anything", Triggered: true}) {
		t.Errorf("a job without only/except runs everywhere")
	}
}

func wantJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got %s, want %s", got, want)
	}
}
