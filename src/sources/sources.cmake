target_sources(dstream PRIVATE
  src/sources/file_reader.cc
  src/sources/file_scanner.cc
  src/sources/input_nodes.cc
  src/sources/line_block.cc
  src/sources/line_splitter.cc
  src/sources/rate_controller.cc
  src/sources/rate_estimator.cc
  src/sources/received_block_queue.cc
  src/sources/socket_receiver.cc
  src/sources/tcp_connect.cc)
