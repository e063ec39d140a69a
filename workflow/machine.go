package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// Functions names each Lambda of the workflow by the placeholder that
// statemachine.asl.json uses for its ARN (template.yaml's
// DefinitionSubstitutions keys).
var Functions = map[string]string{
	"ValidateTokenFunctionArn": "ValidateToken",
	"UpsertUserFunctionArn":    "UpsertUser",
	"SetPasswordFunctionArn":   "SetPassword",
	"IssueTokensFunctionArn":   "IssueTokens",
	"RecordFailureFunctionArn": "RecordFailure",
}

// LocalFunctionARN is the ARN a function gets on the local stack.
func LocalFunctionARN(name string) string {
	return "arn:aws:lambda:us-east-1:000000000000:function:kakaoauth-" + name
}

// NewMachine loads statemachine.asl.json with every Task bound to the
// in-process handler of s, as the deployed machine is bound to the Lambdas.
func NewMachine(s *Steps, opts ...asl.LoadOption) (*asl.Machine, error) {
	subs := make(map[string]string, len(Functions))
	for placeholder, name := range Functions {
		subs[placeholder] = LocalFunctionARN(name)
	}
	opts = append([]asl.LoadOption{asl.WithErrorName(kakaoauth.ErrorName)}, opts...)
	m, err := asl.Load(kakaoauth.StateMachineDefinition, subs, opts...)
	if err != nil {
		return nil, err
	}
	handlers := map[string]asl.TaskFunc{
		"ValidateToken": Task(s.ValidateToken),
		"UpsertUser":    Task(s.UpsertUser),
		"SetPassword":   Task(s.SetPassword),
		"IssueTokens":   Task(s.IssueTokens),
		"RecordFailure": Task(s.RecordFailure),
	}
	for _, name := range Functions {
		m.Bind(LocalFunctionARN(name), handlers[name])
	}
	for _, r := range m.Resources() {
		if _, ok := handlers[nameOfARN(r)]; !ok {
			return nil, fmt.Errorf("statemachine.asl.json uses %s, which no step implements", r)
		}
	}
	return m, nil
}

func nameOfARN(arn string) string {
	for _, name := range Functions {
		if LocalFunctionARN(name) == arn {
			return name
		}
	}
	return ""
}

// Task adapts a typed handler to the executor the way aws-lambda-go does:
// JSON in, JSON out, the handler's error returned as is so that its Go type
// name is the error name.
func Task[In, Out any](fn func(context.Context, In) (Out, error)) asl.TaskFunc {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}
