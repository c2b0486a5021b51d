// ControllerTests: real etcd + mqcontroller processes (tests follow in ControllerProcessTests.swift).
