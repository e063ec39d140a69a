package kakaoauth

import _ "embed"

// StateMachineDefinition is statemachine.asl.json, the workflow that runs
// in Step Functions and, through workflow/asl, on the local stack.
//
//go:embed statemachine.asl.json
var StateMachineDefinition []byte
