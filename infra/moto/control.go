package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The layer's control routes (under /_ext/, never AWS's).
//
// Its Cognito runs the pool's Lambda triggers through Lambda's Invoke API.
// moto cannot run the functions itself; whoever serves them (the local
// stack, a test: infra/lambdaapi) says where, per function ARN.

// RegisterFunctions tells the layer at motoURL that each function ARN's
// Invoke API is served at its endpoint (a base URL such as
// http://127.0.0.1:port; the layer POSTs to
// <endpoint>/2015-03-31/functions/<ARN>/invocations). Registering an ARN
// again replaces its endpoint. moto's reset forgets them all.
func RegisterFunctions(ctx context.Context, motoURL string, endpoints map[string]string) error {
	return functionsCall(ctx, http.MethodPut, motoURL, map[string]any{"Functions": endpoints})
}

// UnregisterFunctions forgets the endpoints of arns.
func UnregisterFunctions(ctx context.Context, motoURL string, arns []string) error {
	return functionsCall(ctx, http.MethodDelete, motoURL, map[string]any{"FunctionArns": arns})
}

// SetClockOffset moves the layer's clock (session and token expiry)
// offset ahead of real time, for tests of what expires; 0 puts it back.
// moto's reset puts it back too.
func SetClockOffset(ctx context.Context, motoURL string, offset time.Duration) error {
	return control(ctx, http.MethodPut, motoURL, "/_ext/clock", map[string]any{"OffsetSeconds": offset.Seconds()})
}

func functionsCall(ctx context.Context, method, motoURL string, body any) error {
	return control(ctx, method, motoURL, "/_ext/lambda/functions", body)
}

func control(ctx context.Context, method, motoURL, path string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, motoURL+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto: %s %s: HTTP %d: %s (is this moto running kakaoauth's layer?)", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
