package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// The layer's Cognito runs the pool's Lambda triggers through Lambda's
// Invoke API. moto cannot run the functions itself; whoever serves them
// (the local stack, a test: infra/lambdaapi) says where, per function ARN.

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

func functionsCall(ctx context.Context, method, motoURL string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, motoURL+"/_ext/lambda/functions", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto: register functions: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto: register functions: HTTP %d: %s (is this moto running kakaoauth's layer?)", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
