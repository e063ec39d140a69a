package tryit

// BrokerMessages is the login API's messages as the page gets them, by
// language and code: the browser tests expect the page to say these.
var BrokerMessages = brokerMessages
