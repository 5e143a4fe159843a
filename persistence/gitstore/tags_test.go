package gitstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/labrador-dev/labrador/persistence/gitstore"
)

func TestTags(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	const id = 7
	if got, err := r.Tags(ctx, id); err != nil || len(got) != 0 {
		t.Fatalf("Tags without a repository = %v, %v; want none", got, err)
	}
	if err := r.Create(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTag(ctx, id, "v0", "master", "", gitstore.Signature{Name: "A", Email: "a@example.com"}); !errors.Is(err, gitstore.ErrInvalidRef) {
		t.Errorf("tag of an empty repository: %v, want ErrInvalidRef", err)
	}
	sha := pushCommit(t, r.Path(id), "master")
	me := gitstore.Signature{Name: "Tagger", Email: "tagger@example.com"}

	light, err := r.CreateTag(ctx, id, "v1.0", "master", "", me)
	if err != nil {
		t.Fatal(err)
	}
	if light.Message != nil || light.Commit == nil || light.Commit.ID != sha || light.Commit.Message != "first\n" ||
		light.Commit.AuthorEmail != "t@example.com" || len(light.Commit.ParentIDs) != 0 {
		t.Errorf("lightweight tag = %+v (commit %+v), want no message and commit %s", light, light.Commit, sha)
	}
	annotated, err := r.CreateTag(ctx, id, "release/2.0", sha, "  notes\n", me)
	if err != nil {
		t.Fatal(err)
	}
	if annotated.Message == nil || *annotated.Message != "  notes" || annotated.Commit == nil || annotated.Commit.ID != sha {
		t.Errorf("annotated tag = %+v, want message %q and commit %s", annotated, "  notes", sha)
	}

	for _, row := range []struct {
		name, ref string
		want      error
	}{
		{"bad..name", "master", gitstore.ErrInvalidTagName},
		{"-v", "master", gitstore.ErrInvalidTagName},
		{"v1.0", "nope", gitstore.ErrTagExists},
		{"v3", "nope", gitstore.ErrInvalidRef},
		{"v3", "--all", gitstore.ErrInvalidRef},
	} {
		if _, err := r.CreateTag(ctx, id, row.name, row.ref, "", me); !errors.Is(err, row.want) {
			t.Errorf("CreateTag(%q, %q) = %v, want %v", row.name, row.ref, err, row.want)
		}
	}

	tags, err := r.Tags(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 2 || tags[0].Name != "v1.0" || tags[1].Name != "release/2.0" {
		t.Errorf("Tags = %+v, want v1.0 then release/2.0", tags)
	}
	if _, err := r.Tag(ctx, id, "release"); !errors.Is(err, gitstore.ErrTagNotFound) {
		t.Errorf("Tag(release) = %v, want ErrTagNotFound", err)
	}
	if err := r.DeleteTag(ctx, id, "release/2.0"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteTag(ctx, id, "release/2.0"); !errors.Is(err, gitstore.ErrTagNotFound) {
		t.Errorf("second delete = %v, want ErrTagNotFound", err)
	}
	if _, err := r.Tag(ctx, id, "release/2.0"); !errors.Is(err, gitstore.ErrTagNotFound) {
		t.Errorf("Tag after delete = %v, want ErrTagNotFound", err)
	}
}
