"""One recogniser per test tool, reading a step's log line by line (`pipelines.testresults.recognise`)."""
