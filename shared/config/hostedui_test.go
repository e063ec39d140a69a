package config

import "testing"

// HOSTED_UI is the stack parameter HostedUi as the functions get it.
func TestHostedUIFromEnv(t *testing.T) {
	for v, want := range map[string]bool{"": false, "disabled": false, "enabled": true} {
		c, err := FromEnv(env(map[string]string{"HOSTED_UI": v}))
		if err != nil || c.HostedUI != want {
			t.Fatalf("HOSTED_UI=%q: %v %v", v, c.HostedUI, err)
		}
		if err := c.Require("HOSTED_UI"); (err == nil) != want {
			t.Fatalf("Require(HOSTED_UI) with %q: %v", v, err)
		}
	}
	if _, err := FromEnv(env(map[string]string{"HOSTED_UI": "on"})); err == nil {
		t.Fatal("HOSTED_UI=on accepted")
	}
}
