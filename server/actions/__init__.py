"""What people do to builds and repositories (restart, cancel, register, change, forget, secrets): one place
that the REST API (`server.api`) and the pages (`server.web`) both call, as Drone's handlers call its core."""
