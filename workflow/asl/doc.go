// Package asl is an in-process interpreter of the Amazon States Language
// (JSONPath query language), faithful to AWS Step Functions where it
// matters to this project, so that statemachine.asl.json runs locally and
// in tests with each Task bound to a Go function.
//
// # Why it exists
//
// The API calls StartSyncExecution on an Express state machine; moto has
// no StartSyncExecution, and there is no Docker for Step Functions Local.
// Rather than re-implement the workflow in Go (and test something other
// than what is deployed), the local stack loads the real definition with
// Load, binds each Lambda ARN to its Go handler with Bind, and Runs it.
//
// # What it implements
//
//   - Top level: Comment, StartAt, States, TimeoutSeconds, Version,
//     QueryLanguage ("JSONPath" only). ${Name} placeholders are filled
//     from substitutions like SAM's DefinitionSubstitutions, textually;
//     an unknown placeholder is an error.
//   - States: Task, Pass, Choice, Wait (Seconds, SecondsPath, Timestamp,
//     TimestampPath), Succeed, Fail (Error, Cause, ErrorPath, CausePath).
//   - Input and output processing in Step Functions' order: InputPath →
//     Parameters → task → ResultSelector → ResultPath (applied to the
//     state's raw input; null keeps the input, missing objects are
//     created) → OutputPath. Parameters and ResultSelector keys ending in
//     .$ take a path or an intrinsic function; $$ reads the context
//     object: Execution.Id/Name/Input/StartTime/RedriveCount,
//     State.Name/EnteredTime/RetryCount, StateMachine.Id/Name.
//   - Intrinsic functions: States.Format, States.StringToJson,
//     States.JsonToString, States.MathAdd, States.UUID, States.Array.
//   - JSONPath: $, $.a.b, $['a'], $.a[0], $$.x; nothing fancier.
//   - Retry: ErrorEquals, IntervalSeconds (1), MaxAttempts (3; 0 never
//     retries), BackoffRate (2.0), MaxDelaySeconds, JitterStrategy
//     FULL|NONE. Only the first retrier whose ErrorEquals matches counts,
//     even once exhausted; each retrier keeps its own count.
//   - Catch: ErrorEquals, Next, ResultPath (default $) with the error
//     object {"Error","Cause"}; OutputPath is not applied to it.
//   - Error matching: States.ALL matches any error but States.Runtime
//     (never caught or retried) and States.DataLimitExceeded (only when
//     named); States.TaskFailed matches the same minus States.Timeout.
//     States.ALL must be alone and in the last retrier or catcher.
//   - Choice: And, Or, Not, Variable with String*, Numeric*, Boolean*,
//     Timestamp* (and their *Path forms), StringMatches, IsNull,
//     IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp; Default;
//     States.NoChoiceMatched. A missing Variable is States.Runtime (except
//     for IsPresent); a value of the wrong type does not match.
//   - Timeouts: Task TimeoutSeconds fails the attempt with States.Timeout
//     (retriable, catchable); the machine's TimeoutSeconds ends the
//     execution TIMED_OUT with Error States.Timeout.
//   - The 256 KiB payload quota: execution input (a Run error, as the API
//     would refuse it), task input after Parameters and task result
//     (States.DataLimitExceeded, catchable only by name), and every
//     state's output (States.DataLimitExceeded, fails the execution).
//   - Tasks: a Lambda function ARN (arn:aws:lambda:...:function:...), or
//     arn:aws:states:::lambda:invoke with Parameters FunctionName (literal)
//     and Payload/Payload.$, whose result is {"ExecutedVersion","Payload",
//     "StatusCode":200} (AWS's SDK metadata fields are left out). Bind the
//     ARN or FunctionName. A TaskFunc error is named by WithErrorName
//     (default: aws-lambda-go's rule, the top-level type name), its Cause
//     is Lambda's {"errorMessage","errorType"} JSON. A panic is reported
//     the way aws-lambda-go reports it: errorType is the panic value's
//     type name ("string", "errorString", ...), not Runtime.ExitError,
//     because aws-lambda-go recovers and posts the error before exiting.
//
// # What it refuses
//
// Load refuses, with a *DefinitionError naming the state and field,
// anything not listed above, so that nothing only the cloud would run
// slips through untested: Map and Parallel states, JSONata, variables
// (Assign), HeartbeatSeconds, TimeoutSecondsPath, Credentials, other
// service integrations and activities, other intrinsic functions,
// wildcard/filter/slice JSONPath, $$ outside Parameters and
// ResultSelector, unknown "States." error names, unreachable states and
// transitions to missing states.
//
// # Deliberate differences
//
// Step Functions puts the state input in the Cause of a path failure;
// this executor does not, because inputs here may hold Kakao tokens.
// Object key order is not preserved. The Express 5-minute limit is not
// enforced: give the definition a TimeoutSeconds.
package asl
