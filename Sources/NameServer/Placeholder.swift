import Remoting
