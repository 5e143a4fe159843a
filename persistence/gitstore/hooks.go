package gitstore

// The server hooks every push runs through, as gitlab-shell's were: a
// pre-receive hook that applies GitLab 8.7's Gitlab::GitAccess change
// checks (protected branches, existing tags) and a post-receive hook that
// reports the refs the push updated. They live once, beside the
// repositories, and receive-pack finds them through core.hooksPath given
// in its environment (ReceiveEnv), so that no repository carries a copy
// and a push that does not come through the server runs none.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ZeroSHA is the object name git gives a ref that does not exist (before
// a ref is created, after it is deleted): 8.7's Gitlab::Git::BLANK_SHA.
const ZeroSHA = "0000000000000000000000000000000000000000"

// hooksDir is the hooks' directory under Root; its name never ends in
// .git, so it is never served as a repository.
const hooksDir = ".hooks"

// The messages are 8.7's lib/gitlab/git_access.rb, word for word
// ("deleted" included); git shows them to the pusher as
// "remote: GitLab: …".
const preReceive = `#!/bin/sh
# Labrador: GitLab 8.7's Gitlab::GitAccess#change_access_check. The server
# says who pushes in the environment; the first change refused refuses
# the whole push, and no ref changes.
z=` + ZeroSHA + `
deny() { echo "GitLab: $1" >&2; exit 1; }
while read -r old new ref; do
	case "$ref" in
	refs/heads/*)
		if printf '%s\n' "$LABRADOR_PROTECTED_BRANCHES" | grep -qxF -e "${ref#refs/heads/}"; then
			if [ "$old" != $z ] && [ "$new" != $z ] && ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
				deny "You are not allowed to force push code to a protected branch on this project."
			fi
			if [ "$new" = $z ]; then
				deny "You are not allowed to deleted protected branches from this project."
			fi
			if [ "$LABRADOR_PUSH_PROTECTED" != 1 ]; then
				deny "You are not allowed to push code to protected branches on this project."
			fi
		fi
		;;
	refs/tags/*)
		# A tag that exists is protected: only those who may administer
		# the project move or delete it.
		if [ "$old" != $z ] && [ "$LABRADOR_CHANGE_TAGS" != 1 ]; then
			deny "You are not allowed to change existing tags on this project."
		fi
		;;
	esac
done
exit 0
`

const postReceive = `#!/bin/sh
# Labrador: hand the updated refs ("<old> <new> <ref>" lines) to the server.
if [ -n "$LABRADOR_REF_UPDATES" ]; then
	cat > "$LABRADOR_REF_UPDATES"
fi
exit 0
`

// installHooks writes the hooks (again: a newer server may bring newer
// ones). Each is written aside and renamed into place, so a push running
// meanwhile sees either the old or the new one.
func (r *Repos) installHooks() error {
	dir := filepath.Join(r.root, hooksDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("hooks directory: %w", err)
	}
	for name, body := range map[string]string{"pre-receive": preReceive, "post-receive": postReceive} {
		f, err := os.CreateTemp(dir, "."+name+"-")
		if err != nil {
			return err
		}
		_, werr := f.WriteString(body)
		cerr := f.Close()
		if err := firstErr(werr, cerr, os.Chmod(f.Name(), 0o755)); err != nil {
			os.Remove(f.Name())
			return err
		}
		if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
			os.Remove(f.Name())
			return err
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// PushPolicy is what the pre-receive hook enforces on one push: 8.7's
// abilities of the pushing user on the project.
type PushPolicy struct {
	ProtectedBranches []string // names, matched exactly
	PushProtected     bool     // push_code_to_protected_branches: masters, owners, admins
	ChangeTags        bool     // admin_project: move or delete an existing tag
}

// ReceiveEnv is the environment that makes a receive-pack run the hooks:
// core.hooksPath pointing at them, the policy, and updates, the file the
// post-receive hook writes the updated refs to (see ReadRefUpdates).
func (r *Repos) ReceiveEnv(policy PushPolicy, updates string) []string {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=core.hooksPath",
		"GIT_CONFIG_VALUE_0=" + filepath.Join(r.root, hooksDir),
		"LABRADOR_PROTECTED_BRANCHES=" + strings.Join(policy.ProtectedBranches, "\n"),
		"LABRADOR_PUSH_PROTECTED=" + flag(policy.PushProtected),
		"LABRADOR_CHANGE_TAGS=" + flag(policy.ChangeTags),
		"LABRADOR_REF_UPDATES=" + updates,
	}
}

// RefUpdate is one ref a push changed.
type RefUpdate struct {
	Old, New, Ref string
}

// Created reports whether the ref is new; Deleted whether it is gone.
func (u RefUpdate) Created() bool { return u.Old == ZeroSHA }
func (u RefUpdate) Deleted() bool { return u.New == ZeroSHA }

// ReadRefUpdates reads what the post-receive hook wrote: the refs the
// push updated, in git's order. A missing file is a push that updated
// nothing (or was refused).
func ReadRefUpdates(path string) ([]RefUpdate, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RefUpdate
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || !isSHA(f[0]) || !isSHA(f[1]) {
			continue
		}
		out = append(out, RefUpdate{Old: f[0], New: f[1], Ref: f[2]})
	}
	return out, sc.Err()
}

func isSHA(s string) bool {
	return len(s) == 40 && strings.Trim(s, "0123456789abcdef") == ""
}
