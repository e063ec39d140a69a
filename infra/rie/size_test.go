package rie_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// maxBootstrapBytes is the size every deployed bootstrap stays under
// (10 MB, decimal): a smaller binary is less to download and map at a
// cold start. Each function links only the AWS clients its step uses.
const maxBootstrapBytes = 10_000_000

// Every bootstrap, built by the Makefile target `sam build` runs
// (linux/arm64, the deployed flags), is under maxBootstrapBytes.
func TestBootstrapSizes(t *testing.T) {
	dir := t.TempDir()
	for _, f := range fnsInOrder(t) {
		out := filepath.Join(dir, f.LogicalID)
		cmd := exec.CommandContext(t.Context(), "make", "--no-print-directory", "-C", root, "build-"+f.LogicalID, "ARTIFACTS_DIR="+out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", f.LogicalID, err, b)
		}
		st, err := os.Stat(filepath.Join(out, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-22s %10d bytes", f.LogicalID, st.Size())
		if st.Size() >= maxBootstrapBytes {
			t.Errorf("%s: bootstrap of %d bytes, want under %d: does it link an AWS client its step does not use?", f.LogicalID, st.Size(), maxBootstrapBytes)
		}
	}
}
