// Package templatecheck holds the tests that keep template.yaml true to the
// code it deploys: the SAM translator accepts it (sam_translate.py), the
// state machine's substitutions match statemachine.asl.json, each role
// grants exactly what its Lambda calls, env.json and events/ match the
// functions, and the API's mapping templates answer exactly as the local
// endpoint (infra/localapi) and errors.go's outcome table do. The mapping
// templates are rendered by a real Velocity engine, velocityjs under Node
// (vtl/render.js adds API Gateway's $input, $util and $context), which
// `make tools` installs from vtl/package-lock.json.
package templatecheck
